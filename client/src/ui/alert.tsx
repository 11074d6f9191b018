import type { ReactNode } from 'react';

export interface AlertProps {
  tone?: 'error' | 'info';
  title?: string;
  children: ReactNode;
  className?: string;
  id?: string;
}

export function Alert({ tone = 'error', title, children, className, id }: AlertProps) {
  return (
    <div id={id} role={tone === 'error' ? 'alert' : 'status'} className={['alert', `alert--${tone}`, className ?? ''].filter(Boolean).join(' ')}>
      <svg className="alert__icon" viewBox="0 0 20 20" aria-hidden="true">
        <circle cx="10" cy="10" r="8.25" fill="none" stroke="currentColor" strokeWidth="1.5" />
        {tone === 'error' ? (
          <path d="M10 5.75v5M10 13.6v.4" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        ) : (
          <path d="M10 9v5M10 6v.4" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        )}
      </svg>
      <div className="alert__content">
        {title ? <p className="alert__title">{title}</p> : null}
        <div className="alert__body">{children}</div>
      </div>
    </div>
  );
}
