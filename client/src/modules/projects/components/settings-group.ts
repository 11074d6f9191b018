import { useState } from 'react';
import type { z } from 'zod';
import { errorMessage } from '../../../lib/api';
import { useUpdateProject } from '../hooks/use-update-project';

/** A number a settings form asks for: its label and hint, its range, and how it is typed. */
export interface NumberRule {
  label: string;
  hint: string;
  min: number;
  max: number;
  integer?: boolean;
  /** blank is allowed (the setting is left unset) */
  optional?: boolean;
  /** the minimum itself is not allowed */
  above?: boolean;
  /** typed as a percentage of the stored share */
  percent?: boolean;
}

/** What is wrong with a typed number, naming the field; undefined when it fits its rule. */
export function numberIssue(text: string, rule: NumberRule): string | undefined {
  const typed = text.trim();
  if (typed === '') return rule.optional ? undefined : `${rule.label} is required.`;
  const value = Number(typed);
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) || value > rule.max || (rule.above ? value <= rule.min : value < rule.min))
    return rule.above
      ? `${rule.label} must be ${kind} above ${rule.min} and at most ${rule.max}.`
      : `${rule.label} must be ${kind} from ${rule.min} to ${rule.max}.`;
  return undefined;
}

/** A stored share as the percentage a field shows (no float noise: 0.07 is "7"). */
export const percentText = (share: number) => String(Number((share * 100).toFixed(4)));

export type SettingsStatus = { tone: 'error' | 'info'; message: string } | null;

/**
 * Saving one group of a project's settings (`labeling`, `monitoring`, `export`), which a PATCH
 * replaces whole: the form's own issues first, then the group's schema, then the PATCH, each told
 * in the section's status.
 */
export function useSettingsGroup<G extends 'labeling' | 'monitoring' | 'export'>(
  slug: string,
  group: G,
  schema: z.ZodType,
  messages: { saved: string; failed: string },
) {
  const update = useUpdateProject(slug);
  const [status, setStatus] = useState<SettingsStatus>(null);
  const save = (issues: Record<string, string | undefined>, next: unknown, onSaved: () => void) => {
    setStatus(null);
    const found = Object.values(issues).filter((issue): issue is string => issue !== undefined);
    if (found.length) {
      setStatus({ tone: 'error', message: found.join(' ') });
      return;
    }
    const checked = schema.safeParse(next);
    if (!checked.success) {
      const [issue] = checked.error.issues;
      setStatus({ tone: 'error', message: `${group}.${issue.path.join('.')}: ${issue.message}` });
      return;
    }
    update.mutate(
      { [group]: next },
      {
        onSuccess: () => {
          onSaved();
          setStatus({ tone: 'info', message: messages.saved });
        },
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, messages.failed) }),
      },
    );
  };
  return { save, status, pending: update.isPending };
}
