import { describeError } from '../lib/error-headings';
import { Alert } from './alert';

export interface ErrorAlertProps {
  /** what failed: an ApiError (its code gives the heading), or anything else (the fallback is shown) */
  error: unknown;
  /** the message when the error is not the server's */
  fallback: string;
  className?: string;
}

/** A failed request on screen: a heading that says what happened (from the error's code), the server's message and its request id. */
export function ErrorAlert({ error, fallback, className }: ErrorAlertProps) {
  const { heading, message, requestId } = describeError(error, fallback);
  return (
    <Alert title={heading} className={className}>
      <p>{message}</p>
      {requestId ? (
        <p className="alert__meta">
          Request ID <code>{requestId}</code>
        </p>
      ) : null}
    </Alert>
  );
}
