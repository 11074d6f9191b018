import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AdminUserResponse } from '@backflow/contracts';
import { apiRequest, errorMessage } from '../lib/api';
import type { Session } from '../modules/auth/api/session-api';
import { Alert } from '../ui/alert';
import { PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import { TextField } from '../ui/text-field';
import './admin-pages.css';

const ROLES = ['rater', 'reviewer', 'admin'] as const;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** Everyone who can sign in: their global role, new accounts, and who is let out. */
export function UsersPage({ session, onSignOut }: { session: Session; onSignOut: () => Promise<void> }) {
  const [users, setUsers] = useState<AdminUserResponse[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<(typeof ROLES)[number]>('rater');
  const [busy, setBusy] = useState(false);

  const fail = (cause: unknown, fallback: string) => setError(errorMessage(cause, fallback));
  const reload = useCallback(async () => {
    try {
      setUsers((await apiRequest<{ users: AdminUserResponse[] }>('/api/v1/users')).users);
    } catch (cause) {
      fail(cause, 'Users could not be loaded.');
    }
  }, []);

  useEffect(() => {
    document.title = 'Users · Backflow';
    void reload();
  }, [reload]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiRequest('/api/v1/users', { method: 'POST', body: { email, password, role } });
      setEmail('');
      setPassword('');
      await reload();
    } catch (cause) {
      fail(cause, 'The user could not be created.');
    } finally {
      setBusy(false);
    }
  };

  const update = async (user: AdminUserResponse, patch: { role?: string; disabled?: boolean }) => {
    setError(null);
    try {
      await apiRequest(`/api/v1/users/${user.id}`, { method: 'PATCH', body: patch });
      await reload();
    } catch (cause) {
      fail(cause, 'The user could not be changed.');
    }
  };

  return (
    <PageShell session={session} onSignOut={onSignOut} className="admin-page" back>
      <h1 className="admin-page__title">Users</h1>
      {error ? (
        <Alert title="Something went wrong">
          <p>{error}</p>
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
            hint="At least 12 characters; share it with them."
            value={password}
            required
            onChange={(event) => setPassword(event.target.value)}
          />
          <label className="admin-form__select">
            Role
            <select value={role} onChange={(event) => setRole(event.target.value as (typeof ROLES)[number])}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <Button type="submit" busy={busy} disabled={!email.trim() || !password}>
            Create account
          </Button>
        </form>
      </section>
      <section className="admin-section" aria-labelledby="users-title">
        <h2 id="users-title">Everyone</h2>
        {users === null ? (
          <p>Loading users…</p>
        ) : (
          <table className="admin-table" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => {
                const self = user.id === session.user.id;
                return (
                  <tr key={user.id} className={user.disabledAt ? 'admin-table__row--revoked' : undefined} data-testid="user-row">
                    <td>{user.email}</td>
                    <td>
                      <select
                        aria-label={`Role of ${user.email}`}
                        value={user.role}
                        disabled={self}
                        onChange={(event) => void update(user, { role: event.target.value })}
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
                        <Button variant="secondary" onClick={() => void update(user, { disabled: false })} aria-label={`Enable ${user.email}`}>
                          Disabled: enable
                        </Button>
                      ) : (
                        <Button variant="secondary" onClick={() => void update(user, { disabled: true })} aria-label={`Disable ${user.email}`}>
                          Disable
                        </Button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </PageShell>
  );
}
