import { useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, isApiError } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { useSession } from '../hooks/use-session';

interface FieldErrors {
  email?: string;
  password?: string;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

export function LoginForm() {
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [requestError, setRequestError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const alertId = useId();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;

    const normalizedEmail = email.trim();
    const errors = validate(normalizedEmail, password);
    setFieldErrors(errors);
    setRequestError(null);
    if (errors.email) return emailRef.current?.focus();
    if (errors.password) return passwordRef.current?.focus();

    setSubmitting(true);
    try {
      await signIn({ email: normalizedEmail, password });
    } catch (error) {
      const apiError = isApiError(error) ? error : new ApiError(0, { code: 'client/unexpected', message: 'Sign-in failed unexpectedly. Try again.' });
      setRequestError(apiError);
      setSubmitting(false);
      if (apiError.field === 'email') emailRef.current?.focus();
      else passwordRef.current?.select();
    }
  }

  const errorField = requestError?.field;
  const credentialsRejected = requestError?.code === 'auth/invalid_credentials';

  return (
    <form className="login-form" onSubmit={(event) => void handleSubmit(event)} noValidate aria-describedby={requestError ? alertId : undefined}>
      {requestError ? (
        <Alert id={alertId} title={errorTitle(requestError)}>
          <p>{requestError.message}</p>
          {requestError.requestId && (requestError.status >= 500 || requestError.status === 0) ? (
            <p className="alert__meta">
              Request ID <code>{requestError.requestId}</code>
            </p>
          ) : null}
        </Alert>
      ) : null}

      <TextField
        ref={emailRef}
        label="Email"
        name="email"
        type="email"
        inputMode="email"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
        value={email}
        onChange={(event) => {
          setEmail(event.target.value);
          setFieldErrors(({ password: passwordError }) => ({ password: passwordError }));
        }}
        error={fieldErrors.email}
        invalid={errorField === 'email' || credentialsRejected}
        aria-describedby={errorField === 'email' ? alertId : undefined}
      />
      <TextField
        ref={passwordRef}
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(event) => {
          setPassword(event.target.value);
          setFieldErrors(({ email: emailError }) => ({ email: emailError }));
        }}
        error={fieldErrors.password}
        invalid={errorField === 'password' || credentialsRejected}
        aria-describedby={errorField === 'password' || credentialsRejected ? alertId : undefined}
      />

      <Button type="submit" block busy={submitting}>
        Sign in
      </Button>
    </form>
  );
}

function validate(email: string, password: string): FieldErrors {
  const errors: FieldErrors = {};
  if (email === '') errors.email = 'Enter your email address.';
  else if (!EMAIL_PATTERN.test(email)) errors.email = 'Enter an email address like name@company.com.';
  if (password === '') errors.password = 'Enter your password.';
  return errors;
}

function errorTitle(error: ApiError): string | undefined {
  if (error.code === 'auth/rate_limited' || error.status === 429) return 'Too many attempts';
  if (error.status === 0) return 'Server unreachable';
  if (error.status >= 500) return 'Sign-in is unavailable';
  return undefined;
}
