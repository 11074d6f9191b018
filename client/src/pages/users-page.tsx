import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AdminUserResponse, UpdateUserRequestBody, UserRole } from '@backflow/contracts';
import { describeError } from '../lib/error-headings';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import { createUser, updateUser, usersQuery } from '../modules/users/api/users-api';
import { signInMethodsQuery } from '../modules/auth/api/session-api';
import { PasswordReset } from '../modules/users/components/password-reset';
import { accountPath, navigate } from '../lib/router';
import { Alert } from '../ui/alert';
import { PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import { TextField } from '../ui/text-field';
import './admin-pages.css';

const ROLES = ['rater', 'reviewer', 'admin'] as const satisfies readonly UserRole[];
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** Everyone who can sign in: their global role, new accounts, and who is let out. */
export function UsersPage() {
  const session = useSignedInSession();
  const queryClient = useQueryClient();
  const users = useQuery(usersQuery());
  const methods = useQuery(signInMethodsQuery());
  const passwords = methods.data?.password !== false;
  const [resetting, setResetting] = useState<AdminUserResponse | null>(null);
  const [failure, setFailure] = useState<{ heading: string; message: string } | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<UserRole>('rater');
  const refresh = () => queryClient.invalidateQueries({ queryKey: usersQuery().queryKey });

  const creation = useMutation({
    mutationFn: createUser,
    onMutate: () => setFailure(null),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      return refresh();
    },
    onError: (cause) => setFailure(describeError(cause, 'The user could not be created.')),
  });
  const change = useMutation({
    mutationFn: ({ user, patch }: { user: AdminUserResponse; patch: UpdateUserRequestBody }) => updateUser(user.id, patch),
    onMutate: () => setFailure(null),
    onSuccess: refresh,
    onError: (cause) => setFailure(describeError(cause, 'The user could not be changed.')),
  });
  const update = (user: AdminUserResponse, patch: UpdateUserRequestBody) => change.mutate({ user, patch });
  const error = failure ?? (users.isError ? describeError(users.error, 'Users could not be loaded.') : null);

  useEffect(() => {
    document.title = 'Users · Backflow';
  }, []);

  const create = (event: FormEvent) => {
    event.preventDefault();
    creation.mutate({ email, password, role });
  };

  return (
    <PageShell className="admin-page" back>
      <h1 className="admin-page__title">Users</h1>
      {error ? (
        <Alert title={error.heading}>
          <p>{error.message}</p>
        </Alert>
      ) : null}
      <section className="admin-section" aria-labelledby="new-user-title">
        <h2 id="new-user-title">New account</h2>
        <form className="admin-form admin-form--inline admin-form--row" onSubmit={create}>
          <TextField label="Email" name="newEmail" type="email" value={email} required onChange={(event) => setEmail(event.target.value)} />
          <TextField
            label="Password"
            name="newPassword"
            type="password"
            hint="At least 10 characters; share it with them."
            value={password}
            required
            onChange={(event) => setPassword(event.target.value)}
          />
          <label className="admin-form__select">
            Role
            <select value={role} onChange={(event) => setRole(event.target.value as UserRole)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <Button type="submit" busy={creation.isPending} disabled={!email.trim() || !password}>
            Create account
          </Button>
        </form>
      </section>
      <section className="admin-section" aria-labelledby="users-title">
        <h2 id="users-title">Everyone</h2>
        {!users.isSuccess ? (
          <p>Loading users…</p>
        ) : (
          <table className="admin-table" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">Access</th>
                {passwords ? <th scope="col">Password</th> : null}
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => {
                const self = user.id === session.user.id;
                return (
                  <tr key={user.id} className={user.disabledAt ? 'admin-table__row--revoked' : undefined} data-testid="user-row">
                    <td>{user.email}</td>
                    <td>
                      <select
                        aria-label={`Role of ${user.email}`}
                        value={user.role}
                        disabled={self}
                        onChange={(event) => update(user, { role: event.target.value as UserRole })}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{when.format(new Date(user.createdAt))}</td>
                    <td>
                      {self ? (
                        'you'
                      ) : user.disabledAt ? (
                        <Button variant="secondary" onClick={() => update(user, { disabled: false })} aria-label={`Enable ${user.email}`}>
                          Disabled: enable
                        </Button>
                      ) : (
                        <Button variant="secondary" onClick={() => update(user, { disabled: true })} aria-label={`Disable ${user.email}`}>
                          Disable
                        </Button>
                      )}
                    </td>
                    {passwords ? (
                      <td>
                        {self ? (
                          <button type="button" className="link-button" onClick={() => navigate(accountPath)}>
                            change yours
                          </button>
                        ) : (
                          <Button variant="secondary" onClick={() => setResetting(user)} aria-label={`Reset the password of ${user.email}`}>
                            Reset
                          </Button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {resetting ? <PasswordReset key={resetting.id} user={resetting} onClose={() => setResetting(null)} /> : null}
      </section>
    </PageShell>
  );
}
