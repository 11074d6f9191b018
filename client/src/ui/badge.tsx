import type { HTMLAttributes } from 'react';

export type BadgeTone = 'neutral' | 'teal' | 'amber' | 'ink';

export interface BadgeProps extends HTMLAttributes<HTMLSpanElement> {
  tone?: BadgeTone;
}

export function Badge({ tone = 'neutral', className, ...rest }: BadgeProps) {
  return <span {...rest} className={['badge', `badge--${tone}`, className ?? ''].filter(Boolean).join(' ')} />;
}
