import { ssoLoginHref } from '../api/session-api';

export interface SsoSignInProps {
  provider: string;
  loginUrl: string;
  /** the form is there too: the button reads as the other way in */
  withPassword: boolean;
}

/** The way in through the organisation's OpenID provider: a plain link (a top-level navigation), back to this page once signed in. */
export function SsoSignIn({ provider, loginUrl, withPassword }: SsoSignInProps) {
  const returnTo = window.location.pathname + window.location.search;
  return (
    <div className="sso-sign-in">
      <a
        className={`button ${withPassword ? 'button--secondary' : 'button--primary'} button--block sso-sign-in__button`}
        href={ssoLoginHref(loginUrl, returnTo)}
        data-testid="sso-sign-in"
      >
        <svg className="sso-sign-in__icon" viewBox="0 0 20 20" aria-hidden="true">
          <rect x="4" y="8.5" width="12" height="8.5" rx="2" fill="none" stroke="currentColor" strokeWidth="1.6" />
          <path d="M7 8.5V6.5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
        <span className="button__text">Sign in with {provider}</span>
      </a>
      {withPassword ? (
        <p className="sso-sign-in__divider" role="separator">
          <span>or with your Backflow password</span>
        </p>
      ) : null}
    </div>
  );
}

const RETRY = 'The sign-in could not be finished (it took too long, or it was started in another window). Try again.';

/** What the sign-in page says when the provider's sign-in came back refused (`?signInError=<code>`): fixed words per code, never text from the address. */
export function ssoErrorMessage(code: string, provider: string): string {
  switch (code) {
    case 'auth/sso_no_role':
      return `Your ${provider} account is in no group that gives a Backflow role. Ask a Backflow admin to add you.`;
    case 'auth/sso_account_disabled':
      return 'Your Backflow account is disabled. Ask a Backflow admin.';
    case 'auth/sso_email_unverified':
      return `${provider} has not verified your email address: verify it there, then try again.`;
    case 'auth/sso_email_taken':
      return `Your email address belongs to a Backflow account linked to another ${provider} identity. Ask a Backflow admin.`;
    case 'auth/sso_claim_missing':
      return `${provider} did not send your email address. Ask a Backflow admin to check the single sign-on settings.`;
    case 'auth/sso_refused':
      return `${provider} did not sign you in (the sign-in was cancelled or refused there).`;
    case 'auth/sso_unavailable':
      return `${provider} cannot be reached right now. Try again in a moment.`;
    case 'auth/sso_flow_missing':
    case 'auth/sso_state_mismatch':
    case 'auth/sso_nonce_mismatch':
    case 'auth/sso_code_rejected':
      return RETRY;
    default:
      return `Signing in with ${provider} did not work. Try again.`;
  }
}
