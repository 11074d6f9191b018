import { useEffect } from 'react';
import type { ApiError } from '../lib/api';
import { Alert } from '../ui/alert';
import { Button } from '../ui/button';
import { LogoMark, Wordmark } from '../ui/wordmark';
import './status-pages.css';

export function LoadingPage() {
  return (
    <div className="status-page" role="status" aria-live="polite">
      <LogoMark size={40} className="logo-mark--spinning" />
      <p className="status-page__text">Loading Backflow…</p>
    </div>
  );
}

export interface ServerUnavailablePageProps {
  error: ApiError;
  onRetry: () => void;
}

export function ServerUnavailablePage({ error, onRetry }: ServerUnavailablePageProps) {
  useEffect(() => {
    document.title = 'Unavailable · Backflow';
  }, []);

  return (
    <main className="status-page">
      <Wordmark size="lg" />
      <h1 className="status-page__title">Backflow is not responding</h1>
      <Alert className="status-page__alert">
        <p>{error.message}</p>
        {error.requestId ? (
          <p className="alert__meta">
            Request ID <code>{error.requestId}</code>
          </p>
        ) : null}
      </Alert>
      <Button onClick={onRetry}>Try again</Button>
    </main>
  );
}
