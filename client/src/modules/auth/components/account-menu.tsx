import { useState } from 'react';
import { Button } from '../../../ui/button';
import { RoleBadge } from '../../../ui/role-badge';
import type { User } from '../api/session-api';
import './auth.css';

export interface AccountMenuProps {
  user: User;
  onSignOut: () => Promise<void>;
}

export function AccountMenu({ user, onSignOut }: AccountMenuProps) {
  const [signingOut, setSigningOut] = useState(false);

  async function handleSignOut() {
    setSigningOut(true);
    await onSignOut();
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
