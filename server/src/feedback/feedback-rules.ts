import { FeedbackRules, VALUE_LABEL } from '@backflow/contracts';

export interface FeedbackFact {
  id: string;
  type: string;
  value: unknown;
  occurredAt: Date;
}

export interface FeedbackDecision {
  label: string;
  /** which rule decided: `rules[2]` or `absence` */
  rule: string;
  eventId: string | null;
}

// services stamp events with their own clocks: an event this far before its prediction still counts
export const CLOCK_SKEW_MS = 60_000;

/**
 * Ground truth a model server's feedback API sends (Seldon's `truth`): its value is the label.
 * It outranks every rule, at any distance from the prediction, unless the project has a rule
 * of its own for this event type.
 */
export const TRUTH_EVENT_TYPE = 'truth';

/**
 * The label a prediction's feedback events imply under the project's rules: among the events
 * inside a rule's attribution window, the highest-priority rule wins, then the latest event,
 * then the rule listed first. Undefined when no event matches.
 */
export function decideFromEvents(predictionAt: Date, events: FeedbackFact[], rules: FeedbackRules, labels: string[]): FeedbackDecision | undefined {
  if (!rules.rules.some((rule) => rule.eventType === TRUTH_EVENT_TYPE)) {
    const truths = events.filter((e) => e.type === TRUTH_EVENT_TYPE && typeof e.value === 'string' && labels.includes(e.value));
    const latest = truths.reduce<FeedbackFact | undefined>((last, e) => (!last || e.occurredAt.getTime() >= last.occurredAt.getTime() ? e : last), undefined);
    if (latest) return { label: latest.value as string, rule: TRUTH_EVENT_TYPE, eventId: latest.id };
  }
  let best: { decision: FeedbackDecision; priority: number; at: number; index: number } | undefined;
  rules.rules.forEach((rule, index) => {
    for (const event of events) {
      if (event.type !== rule.eventType) continue;
      if (rule.valueEquals !== undefined && event.value !== rule.valueEquals) continue;
      const offset = event.occurredAt.getTime() - predictionAt.getTime();
      if (offset < -CLOCK_SKEW_MS || offset > rule.windowMinutes * 60_000) continue;
      const label = rule.label === VALUE_LABEL ? (typeof event.value === 'string' && labels.includes(event.value) ? event.value : undefined) : rule.label;
      if (label === undefined) continue;
      const candidate = { decision: { label, rule: `rules[${index}]`, eventId: event.id }, priority: rule.priority, at: event.occurredAt.getTime(), index };
      if (
        !best ||
        candidate.priority > best.priority ||
        (candidate.priority === best.priority && (candidate.at > best.at || (candidate.at === best.at && candidate.index < best.index)))
      ) {
        best = candidate;
      }
    }
  });
  return best?.decision;
}

/** Negative by absence: when the window closes with no event-made label. */
export function decideByAbsence(rules: FeedbackRules): FeedbackDecision | undefined {
  return rules.absence ? { label: rules.absence.label, rule: 'absence', eventId: null } : undefined;
}

/** When the absence window of a prediction made at `predictionAt` closes, if the project has one. */
export function absenceClosesAt(predictionAt: Date, rules: FeedbackRules): Date | undefined {
  return rules.absence ? new Date(predictionAt.getTime() + rules.absence.windowMinutes * 60_000) : undefined;
}
