import { useId, useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { ApiError, isApiError } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { changePassword } from '../api/session-api';

interface FieldErrors {
  currentPassword?: string;
  newPassword?: string;
  confirmation?: string;
}

/** The signed-in person's new password: the current one proves it is them; their other sessions end when it changes. */
export function ChangePasswordForm() {
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const alertId = useId();
  const change = useMutation({
    mutationFn: changePassword,
    onSuccess: () => {
      setCurrentPassword('');
      setNewPassword('');
      setConfirmation('');
    },
    onError: (cause) => {
      // the server names the field at fault: the message goes beside it
      if (isApiError(cause) && (cause.field === 'currentPassword' || cause.field === 'newPassword'))
        setFieldErrors({ [cause.field]: cause.message.replace(/^\w+: /, '') });
    },
  });
  const failure = change.error && !(isApiError(change.error) && change.error.field) ? toApiError(change.error) : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    const errors: FieldErrors = {};
    if (!currentPassword) errors.currentPassword = 'Enter your current password.';
    if (newPassword.length < 10) errors.newPassword = 'At least 10 characters.';
    else if (confirmation !== newPassword) errors.confirmation = 'The two new passwords differ.';
    setFieldErrors(errors);
    if (Object.keys(errors).length === 0) change.mutate({ currentPassword, newPassword });
  }

  const ended = change.data?.sessionsEnded ?? 0;
  return (
    <form className="admin-form admin-form--plain account-password" onSubmit={submit} noValidate aria-describedby={failure ? alertId : undefined}>
      {change.isSuccess ? (
        <Alert tone="info" title="Password changed">
          <p data-testid="password-changed">
            {ended === 0
              ? 'Use it the next time you sign in. You were signed in nowhere else.'
              : `Use it the next time you sign in. ${ended === 1 ? 'Your other session was' : `Your ${ended} other sessions were`} signed out.`}
          </p>
        </Alert>
      ) : null}
      {failure ? (
        <Alert id={alertId} title={failure.status === 429 ? 'Too many attempts' : 'The password was not changed'}>
          <p>{failure.message}</p>
        </Alert>
      ) : null}
      <TextField
        label="Current password"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        value={currentPassword}
        onChange={(event) => setCurrentPassword(event.target.value)}
        error={fieldErrors.currentPassword}
      />
      <TextField
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        hint="At least 10 characters, hard to guess: a few unrelated words work well."
        value={newPassword}
        onChange={(event) => setNewPassword(event.target.value)}
        error={fieldErrors.newPassword}
      />
      <TextField
        label="New password, again"
        name="confirmation"
        type="password"
        autoComplete="new-password"
        value={confirmation}
        onChange={(event) => setConfirmation(event.target.value)}
        error={fieldErrors.confirmation}
      />
      <div className="admin-form__actions">
        <Button type="submit" busy={change.isPending}>
          Change password
        </Button>
      </div>
    </form>
  );
}

function toApiError(error: unknown): ApiError {
  return isApiError(error) ? error : new ApiError(0, { code: 'client/unexpected', message: 'The password could not be changed. Try again.' });
}
