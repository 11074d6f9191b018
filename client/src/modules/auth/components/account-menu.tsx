import { useState } from 'react';
import { accountPath, navigate } from '../../../lib/router';
import { Button } from '../../../ui/button';
import { RoleBadge } from '../../../ui/role-badge';
import { useSession, useSignedInSession } from '../hooks/use-session';
import './auth.css';

/** Who is signed in, with their role, and the way out. */
export function AccountMenu() {
  const { user } = useSignedInSession();
  const { signOut } = useSession();
  const [signingOut, setSigningOut] = useState(false);

  function handleSignOut() {
    setSigningOut(true);
    void signOut();
  }

  return (
    <div className="account-menu">
      <a
        className="account-menu__identity account-menu__link"
        href={accountPath}
        title="Your account and password"
        onClick={(event) => {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
          event.preventDefault();
          navigate(accountPath);
        }}
      >
        <span className="account-menu__label">Signed in as</span>
        <span className="account-menu__email" data-testid="current-user-email">
          {user.email}
        </span>
      </a>
      <RoleBadge role={user.role} />
      <Button variant="inverse" onClick={handleSignOut} busy={signingOut}>
        Log out
      </Button>
    </div>
  );
}
