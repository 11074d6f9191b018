import type { HTMLAttributes, ReactNode } from 'react';

export interface EmptyStateProps extends Omit<HTMLAttributes<HTMLElement>, 'title'> {
  title: string;
  icon?: ReactNode;
  actions?: ReactNode;
}

export function EmptyState({ title, icon, actions, children, className, ...rest }: EmptyStateProps) {
  return (
    <section {...rest} className={['empty-state', className ?? ''].filter(Boolean).join(' ')}>
      {icon ? (
        <div className="empty-state__icon" aria-hidden="true">
          {icon}
        </div>
      ) : null}
      <h2 className="empty-state__title">{title}</h2>
      <div className="empty-state__body">{children}</div>
      {actions ? <div className="empty-state__actions">{actions}</div> : null}
    </section>
  );
}
