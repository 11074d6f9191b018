import { useEffect } from 'react';
import { LoginForm } from '../modules/auth/components/login-form';
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

export function LoginPage({ notice }: LoginPageProps) {
  useEffect(() => {
    document.title = 'Sign in · Backflow';
  }, []);

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
          <p className="login-panel__lede">Use the account your Backflow admin set up for you.</p>
          {notice ? (
            <Alert tone="info" className="login-panel__notice">
              {notice}
            </Alert>
          ) : null}
          <LoginForm />
          <p className="login-panel__help">No account yet? Ask a Backflow admin to create one for you.</p>
        </div>
      </main>
    </div>
  );
}
