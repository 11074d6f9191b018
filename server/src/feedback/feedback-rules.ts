import { FeedbackRules, PREDICTED_ANSWER, VALUE_LABEL, type FeedbackAnswer, type Question } from '@backflow/contracts';
import { answerText, kindOf, type Answer } from '@backflow/questions';
import { normalizedEditDistance } from '@backflow/sampling';

export interface FeedbackFact {
  id: string;
  type: string;
  value: unknown;
  occurredAt: Date;
  /** a ranked list's candidate the event is about */
  item?: string | null;
  /** an edit's normalized edit distance to the response, once computed */
  editDistance?: number | null;
}

/** The event type a generative product sends with the user's edited response as its value. */
export const EDIT_EVENT_TYPE = 'edit';

/**
 * The normalized edit distance (0 unchanged, 1 nothing kept) of each edit not yet measured: an
 * event of type `edit`, or of a type a rule reads as the answer (`$value`), whose value is a
 * text, against the model's response (a text or generation routing question's predicted text).
 */
export function editDistances(
  routing: Question,
  rules: FeedbackRules,
  facts: ReadonlyArray<{ id: string; predictedLabel: string }>,
  events: ReadonlyArray<FeedbackFact & { predictionId: string }>,
): Array<{ eventId: string; distance: number }> {
  if (routing.kind !== 'text' && routing.kind !== 'generation') return [];
  const types = new Set([EDIT_EVENT_TYPE, ...rules.rules.filter((rule) => rule.answer === VALUE_LABEL).map((rule) => rule.eventType)]);
  const predicted = new Map(facts.map((f) => [f.id, f.predictedLabel]));
  return events.flatMap((event) => {
    const original = predicted.get(event.predictionId);
    if (original === undefined || event.editDistance != null || !types.has(event.type) || typeof event.value !== 'string') return [];
    return [{ eventId: event.id, distance: normalizedEditDistance(original, event.value) }];
  });
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
      if (rule.label === undefined) continue;
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

/**
 * The event that asks for raters under a `route` rule (a thumbs-down, a regenerate): the latest
 * one inside its rule's window, or undefined. It labels nothing; the prediction becomes a task.
 */
export function routeRequest(predictionAt: Date, events: FeedbackFact[], rules: FeedbackRules): { rule: string; eventId: string } | undefined {
  let found: { rule: string; eventId: string; at: number } | undefined;
  rules.rules.forEach((rule, index) => {
    if (!rule.route) return;
    for (const event of events) {
      if (event.type !== rule.eventType) continue;
      if (rule.valueEquals !== undefined && event.value !== rule.valueEquals) continue;
      const offset = event.occurredAt.getTime() - predictionAt.getTime();
      if (offset < -CLOCK_SKEW_MS || offset > rule.windowMinutes * 60_000) continue;
      if (!found || event.occurredAt.getTime() > found.at) found = { rule: `rules[${index}]`, eventId: event.id, at: event.occurredAt.getTime() };
    }
  });
  return found && { rule: found.rule, eventId: found.eventId };
}

/** Negative by absence: when the window closes with no event-made label. */
export function decideByAbsence(rules: FeedbackRules): FeedbackDecision | undefined {
  return rules.absence?.label !== undefined ? { label: rules.absence.label, rule: 'absence', eventId: null } : undefined;
}

/** When the absence window of a prediction made at `predictionAt` closes, if the project has one. */
export function absenceClosesAt(predictionAt: Date, rules: FeedbackRules): Date | undefined {
  return rules.absence ? new Date(predictionAt.getTime() + rules.absence.windowMinutes * 60_000) : undefined;
}

/** What the events (or their absence) give the routing question: its answer, and the answer as text (`labels.value`). */
export interface FeedbackAnswerDecision extends FeedbackDecision {
  answer: Answer;
}

type Rule = FeedbackRules['rules'][number];

/** The answer a rule gives with an event's value, or undefined when the value does not fit the question. */
function answerOf(routing: Question, given: FeedbackAnswer, value: unknown, predicted: string): Answer | undefined {
  const checked = kindOf(routing).answer(routing, given === VALUE_LABEL ? value : given === PREDICTED_ANSWER ? predicted : given);
  return checked.ok ? (checked.value as Answer) : undefined;
}

/** A multi-label rule's edit of the label set, or undefined for a rule that gives a whole answer. */
function editOf(rule: Rule, value: unknown, labels: ReadonlySet<string>): { add: boolean; label: string } | null | undefined {
  const answer = rule.answer;
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const [key, named] = Object.entries(answer)[0] as ['add' | 'remove', string];
  const label = named === VALUE_LABEL ? value : named;
  return typeof label === 'string' && labels.has(label) ? { add: key === 'add', label } : null;
}

/**
 * The routing question's answer a prediction's events imply. A label question decides as
 * `decideFromEvents`. Another kind: a `truth` event's value (when it fits), else among the
 * events inside a rule's window the highest-priority rule wins, then the latest event, then the
 * rule listed first, as for labels. A multi-label question's edits (add or remove one label)
 * apply in time order to the set that wins, or to the model's own set (`predicted`, as text)
 * when no rule gives a whole set; edits made before the winning set do not count.
 */
export function decideAnswer(
  predictionAt: Date,
  events: FeedbackFact[],
  rules: FeedbackRules,
  routing: Question,
  predicted: string,
): FeedbackAnswerDecision | undefined {
  if (routing.kind === 'label') {
    const decision = decideFromEvents(
      predictionAt,
      events,
      rules,
      routing.labels.map((l) => l.name),
    );
    return decision && { ...decision, answer: decision.label };
  }
  const decided = (answer: Answer, rule: string, eventId: string | null): FeedbackAnswerDecision => ({
    answer,
    label: answerText(routing, answer),
    rule,
    eventId,
  });
  if (routing.kind === 'ranking') {
    const graded = decideGrades(predictionAt, events, rules, routing, predicted);
    return graded && decided(graded.answer, graded.rule, graded.eventId);
  }
  if (!rules.rules.some((rule) => rule.eventType === TRUTH_EVENT_TYPE)) {
    const truths = events
      .filter((e) => e.type === TRUTH_EVENT_TYPE)
      .map((e) => ({ e, answer: answerOf(routing, VALUE_LABEL, e.value, predicted) }))
      .filter((t) => t.answer !== undefined);
    const latest = truths.reduce<(typeof truths)[number] | undefined>((last, t) => (!last || t.e.occurredAt >= last.e.occurredAt ? t : last), undefined);
    if (latest) return decided(latest.answer!, TRUTH_EVENT_TYPE, latest.e.id);
  }
  const labels = new Set(routing.kind === 'multi_label' ? routing.labels.map((l) => l.name) : []);
  let best: { answer: Answer; rule: string; eventId: string; priority: number; at: number; index: number } | undefined;
  const edits: Array<{ add: boolean; label: string; rule: string; eventId: string; at: number; index: number }> = [];
  rules.rules.forEach((rule, index) => {
    for (const event of events) {
      if (event.type !== rule.eventType || rule.answer === undefined) continue;
      if (rule.valueEquals !== undefined && event.value !== rule.valueEquals) continue;
      const offset = event.occurredAt.getTime() - predictionAt.getTime();
      if (offset < -CLOCK_SKEW_MS || offset > rule.windowMinutes * 60_000) continue;
      const at = event.occurredAt.getTime();
      const edit = routing.kind === 'multi_label' ? editOf(rule, event.value, labels) : undefined;
      if (edit === null) continue;
      if (edit) {
        edits.push({ ...edit, rule: `rules[${index}]`, eventId: event.id, at, index });
        continue;
      }
      const answer = answerOf(routing, rule.answer, event.value, predicted);
      if (answer === undefined) continue;
      if (!best || rule.priority > best.priority || (rule.priority === best.priority && (at > best.at || (at === best.at && index < best.index))))
        best = { answer, rule: `rules[${index}]`, eventId: event.id, priority: rule.priority, at, index };
    }
  });
  if (routing.kind !== 'multi_label' || edits.length === 0) return best && decided(best.answer, best.rule, best.eventId);
  const after = best?.at ?? -Infinity;
  const applied = edits.filter((e) => e.at >= after).sort((a, b) => a.at - b.at || a.index - b.index);
  if (applied.length === 0) return decided(best!.answer, best!.rule, best!.eventId);
  const set = new Set(best ? (best.answer as string[]) : predicted.split('\n').filter((label) => labels.has(label)));
  for (const edit of applied) {
    if (edit.add) set.add(edit.label);
    else set.delete(edit.label);
  }
  const last = applied[applied.length - 1];
  return decided(
    routing.labels.map((l) => l.name).filter((name) => set.has(name)),
    last.rule,
    last.eventId,
  );
}

/** A ranking's candidates, as the prediction stored them (`predicted_label`: the items in the order shown, one per line). */
const listedItems = (predicted: string) => predicted.split('\n').filter((item) => item !== '');

/** Every candidate of the list at one grade, in the answer's order (item ids). */
function gradedList(routing: Extract<Question, { kind: 'ranking' }>, predicted: string, gradeOf: (item: string) => number): Answer {
  const checked = kindOf(routing).answer(
    routing,
    listedItems(predicted).map((item) => ({ item, grade: gradeOf(item) })),
  );
  return checked.ok ? (checked.value as Answer) : [];
}

/**
 * A ranking's grades from the events on its candidates: a rule with a `grade` grades the
 * candidate an event of its type names (inside the rule's window; the highest priority, then the
 * highest grade, wins); every other candidate of the list gets the scale's lowest grade (shown,
 * and nothing done with it). Undefined when no event graded a candidate of the list. The rule and
 * event named are the latest that graded one.
 */
function decideGrades(
  predictionAt: Date,
  events: FeedbackFact[],
  rules: FeedbackRules,
  routing: Extract<Question, { kind: 'ranking' }>,
  predicted: string,
): { answer: Answer; rule: string; eventId: string } | undefined {
  const shown = new Set(listedItems(predicted));
  const best = new Map<string, { grade: number; priority: number }>();
  let last: { rule: string; eventId: string; at: number } | undefined;
  rules.rules.forEach((rule, index) => {
    if (rule.grade === undefined) return;
    for (const event of events) {
      if (event.type !== rule.eventType || !event.item || !shown.has(event.item)) continue;
      if (rule.valueEquals !== undefined && event.value !== rule.valueEquals) continue;
      const offset = event.occurredAt.getTime() - predictionAt.getTime();
      if (offset < -CLOCK_SKEW_MS || offset > rule.windowMinutes * 60_000) continue;
      const held = best.get(event.item);
      if (!held || rule.priority > held.priority || (rule.priority === held.priority && rule.grade > held.grade))
        best.set(event.item, { grade: rule.grade, priority: rule.priority });
      const at = event.occurredAt.getTime();
      if (!last || at > last.at) last = { rule: `rules[${index}]`, eventId: event.id, at };
    }
  });
  if (!last) return undefined;
  const lowest = routing.grades[0].value;
  return { answer: gradedList(routing, predicted, (item) => best.get(item)?.grade ?? lowest), rule: last.rule, eventId: last.eventId };
}

/** Negative by absence, for any kind: the absence rule's label or answer (a multi-label edit applies to the model's set; a ranking's list all at its grade). */
export function decideAnswerByAbsence(rules: FeedbackRules, routing: Question, predicted: string): FeedbackAnswerDecision | undefined {
  const absence = rules.absence;
  if (!absence) return undefined;
  if (absence.label !== undefined) return { label: absence.label, answer: absence.label, rule: 'absence', eventId: null };
  if (routing.kind === 'ranking') {
    if (absence.grade === undefined) return undefined;
    const answer = gradedList(routing, predicted, () => absence.grade!);
    return { label: answerText(routing, answer), answer, rule: 'absence', eventId: null };
  }
  if (routing.kind === 'multi_label') {
    const labels = new Set(routing.labels.map((l) => l.name));
    const edit = editOf({ answer: absence.answer } as Rule, undefined, labels);
    if (edit) {
      const set = new Set(predicted.split('\n').filter((label) => labels.has(label)));
      if (edit.add) set.add(edit.label);
      else set.delete(edit.label);
      const answer = routing.labels.map((l) => l.name).filter((name) => set.has(name));
      return { label: answerText(routing, answer), answer, rule: 'absence', eventId: null };
    }
  }
  // (no event: a window that closes with none keeps the model's output under "$predicted")
  const answer = answerOf(routing, absence.answer!, undefined, predicted);
  return answer === undefined ? undefined : { label: answerText(routing, answer), answer, rule: 'absence', eventId: null };
}
