import type { ReactNode } from 'react';
import { Wordmark } from './wordmark';

export interface AppHeaderProps {
  children?: ReactNode;
}

export function AppHeader({ children }: AppHeaderProps) {
  return (
    <header className="app-header">
      <div className="app-header__inner">
        <Wordmark tone="on-dark" />
        {children ? <div className="app-header__end">{children}</div> : null}
      </div>
    </header>
  );
}
