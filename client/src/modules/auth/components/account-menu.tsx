import { useState } from 'react';
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
      <div className="account-menu__identity">
        <span className="account-menu__label">Signed in as</span>
        <span className="account-menu__email" title={user.email} data-testid="current-user-email">
          {user.email}
        </span>
      </div>
      <RoleBadge role={user.role} />
      <Button variant="inverse" onClick={handleSignOut} busy={signingOut}>
        Log out
      </Button>
    </div>
  );
}
