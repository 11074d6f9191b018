import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { AdminUserResponse } from '@backflow/contracts';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { resetPassword } from '../api/users-api';

export interface PasswordResetProps {
  user: AdminUserResponse;
  onClose: () => void;
}

/**
 * An admin sets somebody's password: one the server generates (shown here once, to hand over) or
 * one typed here. Every session of theirs ends at once.
 */
export function PasswordReset({ user, onClose }: PasswordResetProps) {
  const [mode, setMode] = useState<'generate' | 'type'>('generate');
  const [password, setPassword] = useState('');
  const [copied, setCopied] = useState(false);
  const reset = useMutation({ mutationFn: () => resetPassword(user.id, mode === 'type' ? { password } : {}) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate();
  };
  const ended = reset.data?.sessionsEnded ?? 0;

  if (reset.isSuccess) {
    return (
      <div className="secret-box" role="status" data-testid="password-reset-done">
        <p>
          <strong>{user.email}</strong>: {reset.data.password ? 'give them this password; it will not be shown again.' : 'the new password is set.'}{' '}
          {ended === 0 ? 'They were signed in nowhere.' : `${ended === 1 ? 'Their session was' : `Their ${ended} sessions were`} ended.`}
        </p>
        {reset.data.password ? (
          <div className="secret-box__row">
            <code data-testid="reset-password-secret">{reset.data.password}</code>
            <Button
              variant="secondary"
              onClick={() =>
                void navigator.clipboard
                  ?.writeText(reset.data.password ?? '')
                  .then(() => setCopied(true))
                  .catch(() => setCopied(false))
              }
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
          </div>
        ) : null}
        <div className="admin-form__actions">
          <Button variant="secondary" onClick={onClose}>
            Done
          </Button>
        </div>
      </div>
    );
  }

  return (
    <form className="password-reset" onSubmit={submit} aria-labelledby="password-reset-title" data-testid="password-reset">
      <h3 id="password-reset-title" className="password-reset__title">
        New password for {user.email}
      </h3>
      <p className="admin-section__lede">
        {user.sso
          ? 'They sign in through single sign-on; a password lets them sign in here too. '
          : 'Their current password stops working and they are signed out everywhere, at once. '}
        The reset is recorded in the audit log.
      </p>
      {reset.isError ? (
        <Alert title="The password was not set">
          <p>{errorMessage(reset.error, 'The password could not be set.')}</p>
        </Alert>
      ) : null}
      <fieldset className="password-reset__modes">
        <legend className="visually-hidden">How to choose the password</legend>
        <label>
          <input type="radio" name="mode" value="generate" checked={mode === 'generate'} onChange={() => setMode('generate')} /> Generate one, to hand over
        </label>
        <label>
          <input type="radio" name="mode" value="type" checked={mode === 'type'} onChange={() => setMode('type')} /> Type one
        </label>
      </fieldset>
      {mode === 'type' ? (
        <TextField
          label="New password"
          name="resetPassword"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters, hard to guess."
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      ) : null}
      <div className="admin-form__actions">
        <Button type="submit" busy={reset.isPending} disabled={mode === 'type' && password.length === 0}>
          Set the new password
        </Button>
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
