import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { signInMethodsQuery } from '../modules/auth/api/session-api';
import { LoginForm } from '../modules/auth/components/login-form';
import { SsoSignIn, ssoErrorMessage } from '../modules/auth/components/sso-sign-in';
import { Alert } from '../ui/alert';
import { Wordmark } from '../ui/wordmark';
import './login-page.css';

export interface LoginPageProps {
  notice?: string;
}

const loopSteps = [
  { title: 'Predictions stream in', detail: 'from the model server in production.' },
  { title: 'Uncertain examples reach raters', detail: 'labeled from the keyboard, reconciled across raters.' },
  { title: 'Labels ship as a new span', detail: 'ready for the next training run.' },
];

/** The code of a refused single sign-on, which the server's callback put in the address; read once. */
function takeSignInError(): string | null {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('signInError');
  if (code === null) return null;
  params.delete('signInError');
  const rest = params.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}`);
  return code;
}

export function LoginPage({ notice }: LoginPageProps) {
  const methods = useQuery(signInMethodsQuery());
  const [signInError] = useState(takeSignInError);

  useEffect(() => {
    document.title = 'Sign in · Backflow';
  }, []);

  // until the server says, and if it cannot, the password form is offered: it reports what goes wrong itself
  const sso = methods.data?.sso ?? null;
  const password = methods.data?.password ?? true;
  const provider = sso?.provider ?? 'single sign-on';
  const lede = !sso
    ? 'Use the account your Backflow admin set up for you.'
    : password
      ? `Use your ${sso.provider} account, or the password your Backflow admin set up for you.`
      : `Use your ${sso.provider} account.`;

  return (
    <div className="login-layout">
      <section className="login-aside" aria-label="About Backflow">
        <Wordmark tone="on-dark" size="lg" />
        <div className="login-aside__pitch">
          <p className="login-aside__headline">
            Human labels where the model is unsure, <em>straight back into training.</em>
          </p>
          <ol className="loop-steps">
            {loopSteps.map((step, index) => (
              <li key={step.title} className="loop-steps__item">
                <span className="loop-steps__index" aria-hidden="true">
                  {index + 1}
                </span>
                <span>
                  <strong>{step.title}</strong> {step.detail}
                </span>
              </li>
            ))}
          </ol>
        </div>
        <p className="login-aside__foot">The labeling and feedback loop for production ML.</p>
      </section>

      <main className="login-main">
        <div className="login-panel">
          <h1 className="login-panel__title">Sign in</h1>
          <p className="login-panel__lede">{lede}</p>
          {notice ? (
            <Alert tone="info" className="login-panel__notice">
              {notice}
            </Alert>
          ) : null}
          {signInError ? (
            <Alert title={`Not signed in with ${provider}`}>
              <p data-testid="sso-error">{ssoErrorMessage(signInError, provider)}</p>
            </Alert>
          ) : null}
          {methods.isPending ? null : (
            <>
              {sso ? <SsoSignIn provider={sso.provider} loginUrl={sso.loginUrl} withPassword={password} /> : null}
              {password ? <LoginForm /> : null}
            </>
          )}
          <p className="login-panel__help">
            {password
              ? 'No account yet? Ask a Backflow admin to create one for you.'
              : `No access yet? Ask a Backflow admin to give your ${provider} account a Backflow role.`}
          </p>
        </div>
      </main>
    </div>
  );
}
