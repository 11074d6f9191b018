import { Badge, type BadgeTone } from './badge';

const toneByRole: Record<string, BadgeTone> = {
  admin: 'amber',
  reviewer: 'ink',
  rater: 'teal',
};

export interface RoleBadgeProps {
  role: string;
  label?: string;
}

export function RoleBadge({ role, label }: RoleBadgeProps) {
  return (
    <Badge tone={toneByRole[role] ?? 'neutral'} className="badge--role">
      {label ?? role}
    </Badge>
  );
}
