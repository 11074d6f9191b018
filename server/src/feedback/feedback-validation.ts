import { FeedbackInput, VALUE_LABEL } from '@backflow/contracts';
import { kindOf } from '@backflow/questions';
import { routingQuestion } from '../projects/project-questions';
import { predictionKeyOf } from '../common/ids/prediction-key';
import type { ItemVerdict } from '../common/ingest/batch';
import { findJsonHazard } from '../common/validation/json-hazards';
import { codeOf, fieldOf } from '../common/validation/zod-validation.pipe';
import type { ProjectEntity } from '../projects/project.entity';

export interface FeedbackRow {
  id: string;
  /** the prediction's key: the caller's prediction id as capture keys it (`predictionKey`) */
  predictionId: string;
  type: string;
  value: string | number | boolean | null;
  occurredAt: Date;
  /** false when the event came without a timestamp and took its arrival time */
  timestamped: boolean;
  /** a ranked list's candidate the event is about */
  item: string | null;
}

const MAX_FUTURE_MS = 24 * 3600 * 1000;

/**
 * Checks one feedback event: text PostgreSQL cannot store and numbers that underflowed a double
 * (unless the body's raw text showed there are none), its shape, an integer value JSON rounds, and that a value meant as a label is one of the project's.
 */
export function validateFeedback(
  raw: unknown,
  project: Pick<ProjectEntity, 'id' | 'labels' | 'feedbackRules' | 'questions' | 'routingQuestion'>,
  now = new Date(),
  valuesChecked = false,
): ItemVerdict<FeedbackRow> {
  // before the shape: a number that underflowed a double is named as such, not as a value of the wrong type
  if (!valuesChecked) {
    const hazard = findJsonHazard(raw, { text: true });
    if (hazard) return { ok: false, rejection: hazard };
  }
  const parsed = FeedbackInput.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = fieldOf(issue);
    return { ok: false, rejection: { code: codeOf(issue), field, message: `${field}: ${issue.message}` } };
  }
  const event = parsed.data;
  if (typeof event.value === 'number' && Number.isInteger(event.value) && !Number.isSafeInteger(event.value)) {
    return {
      ok: false,
      rejection: {
        code: 'feedback/unsafe_integer',
        field: 'value',
        message: `value: an integer beyond ±(2^53 − 1) (read as ${event.value}) cannot be kept exactly; send it as a string`,
      },
    };
  }
  const valueIsLabel = project.feedbackRules.rules.some((rule) => rule.eventType === event.type && rule.label === VALUE_LABEL);
  if (valueIsLabel && !project.labels.some((label) => label.name === event.value)) {
    return {
      ok: false,
      rejection: {
        code: 'feedback/unknown_label',
        field: 'value',
        message: `value: a ${event.type} names one of the project's labels (${project.labels.map((l) => l.name).join(', ')})`,
      },
    };
  }
  if (event.item === undefined && project.feedbackRules.rules.some((rule) => rule.eventType === event.type && rule.grade !== undefined)) {
    return {
      ok: false,
      rejection: {
        code: 'feedback/missing_item',
        field: 'item',
        message: `item: a ${event.type} grades the candidate it names: give the item id it is about`,
      },
    };
  }
  const misfit = valueMisfit(event, project);
  if (misfit) return { ok: false, rejection: { code: 'feedback/invalid_value', field: 'value', message: `value: ${misfit}` } };
  const occurredAt = event.occurredAt ? new Date(event.occurredAt) : now;
  if (occurredAt.getTime() - now.getTime() > MAX_FUTURE_MS) {
    return {
      ok: false,
      rejection: { code: 'feedback/timestamp_in_future', field: 'occurredAt', message: 'occurredAt: more than a day ahead of the server clock' },
    };
  }
  return {
    ok: true,
    row: {
      id: event.id,
      predictionId: predictionKeyOf(project.id, event.predictionId),
      type: event.type,
      value: event.value ?? null,
      occurredAt,
      timestamped: Boolean(event.occurredAt),
      item: event.item ?? null,
    },
  };
}

/**
 * Why an event's value cannot be the answer a rule reads it as ("$value": a rating, a number,
 * a text, or a label to add or remove), for a routing question of another kind than label.
 */
function valueMisfit(
  event: { type: string; value?: unknown },
  project: Pick<ProjectEntity, 'feedbackRules' | 'questions' | 'routingQuestion'>,
): string | undefined {
  const reading = project.feedbackRules.rules.filter((rule) => rule.eventType === event.type && rule.answer !== undefined);
  if (reading.length === 0) return undefined;
  const routing = routingQuestion(project);
  for (const rule of reading) {
    const answer = rule.answer!;
    if (answer === VALUE_LABEL) {
      const checked = kindOf(routing).answer(routing, event.value);
      if (!checked.ok) return `a ${event.type} gives "${routing.name}" its answer: ${checked.issue.message}`;
    } else if (typeof answer === 'object' && !Array.isArray(answer) && Object.values(answer)[0] === VALUE_LABEL) {
      const labels = 'labels' in routing ? routing.labels.map((l) => l.name) : [];
      if (typeof event.value !== 'string' || !labels.includes(event.value))
        return `a ${event.type} names one of "${routing.name}"'s labels (${labels.join(', ')})`;
    }
  }
  return undefined;
}
