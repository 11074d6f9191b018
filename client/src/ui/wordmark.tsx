export interface LogoMarkProps {
  size?: number;
  className?: string;
}

export function LogoMark({ size = 28, className }: LogoMarkProps) {
  return (
    <svg
      className={['logo-mark', className ?? ''].filter(Boolean).join(' ')}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      strokeWidth="2.2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path className="logo-mark__forward" d="M4 12a8 8 0 0 1 14.93-4" />
      <path className="logo-mark__forward" d="M20.03 3.9 18.93 8l-4.1-1.1" />
      <path className="logo-mark__back" d="M20 12a8 8 0 0 1-14.93 4" />
      <path className="logo-mark__back" d="M3.97 20.1 5.07 16l4.1 1.1" />
      <circle className="logo-mark__core" cx="12" cy="12" r="2" />
    </svg>
  );
}

export interface WordmarkProps {
  tone?: 'on-dark' | 'on-light';
  size?: 'md' | 'lg';
}

export function Wordmark({ tone = 'on-light', size = 'md' }: WordmarkProps) {
  return (
    <span className={`wordmark wordmark--${tone} wordmark--${size}`}>
      <LogoMark size={size === 'lg' ? 34 : 28} />
      <span className="wordmark__text">Backflow</span>
    </span>
  );
}
