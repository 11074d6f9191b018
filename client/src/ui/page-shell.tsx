import type { ReactNode } from 'react';
import { navigate } from '../lib/router';
import { AccountMenu } from '../modules/auth/components/account-menu';
import { AppHeader } from './app-header';

export interface PageShellProps {
  /** the main element's class: the page's own layout */
  className: string;
  /** a line under the header, above the page (the connection banner) */
  banner?: ReactNode;
  /** a link back to the projects list at the top of the page */
  back?: boolean;
  children: ReactNode;
}

/** Every signed-in screen: the header with the account menu, and the page. */
export function PageShell({ className, banner, back = false, children }: PageShellProps) {
  return (
    <div className="app-shell">
      <AppHeader>
        <AccountMenu />
      </AppHeader>
      {banner}
      <main className={className}>
        {back ? <BackToProjects /> : null}
        {children}
      </main>
    </div>
  );
}

export function BackToProjects() {
  return (
    <button type="button" className="link-button" onClick={() => navigate('/')}>
      ← Projects
    </button>
  );
}
