import { useEffect } from 'react';
import { useQuery } from '@tanstack/react-query';
import { signInMethodsQuery } from '../modules/auth/api/session-api';
import { ChangePasswordForm } from '../modules/auth/components/change-password-form';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import { PageShell } from '../ui/page-shell';
import { RoleBadge } from '../ui/role-badge';
import './admin-pages.css';

/** The signed-in person's account: who they are here, and their password (or where it is kept, with single sign-on). */
export function AccountPage() {
  const session = useSignedInSession();
  const methods = useQuery(signInMethodsQuery());
  const provider = methods.data?.sso?.provider;

  useEffect(() => {
    document.title = 'Your account · Backflow';
  }, []);

  return (
    <PageShell className="admin-page account-page" back>
      <h1 className="admin-page__title">Your account</h1>
      <section className="admin-section" aria-labelledby="account-who">
        <h2 id="account-who">Signed in as</h2>
        <dl className="admin-facts">
          <div>
            <dt>Email</dt>
            <dd>{session.user.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              <RoleBadge role={session.user.role} />
            </dd>
          </div>
          <div>
            <dt>Projects</dt>
            <dd>{session.user.role === 'admin' ? 'all (admin)' : session.memberships.length || 'none yet'}</dd>
          </div>
        </dl>
      </section>
      <section className="admin-section" aria-labelledby="account-password">
        <h2 id="account-password">Password</h2>
        {session.localPassword ? (
          <>
            <p className="admin-section__lede">Changing it signs you out everywhere else, at once.</p>
            <ChangePasswordForm />
          </>
        ) : methods.isPending ? null : (
          <p className="admin-section__lede" data-testid="no-local-password">
            {methods.data && !methods.data.password
              ? `You sign in with ${provider ?? 'single sign-on'}; passwords are not used here. Change yours there.`
              : `You sign in with ${provider ?? 'single sign-on'} and have no Backflow password. An admin can set one for you on the users page.`}
          </p>
        )}
      </section>
    </PageShell>
  );
}
