import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DEFAULT_UNDO_SECONDS, TaskLayout } from './task-layout';
import { eachOnce, Slug, Timestamp, WebhookUrl } from './common';
import { IntegrationSettings } from './interop';
import { MonitoringSettings } from './monitoring';
import { WeakSupervisionSettings, weakSupervisionIssues } from './weak';

import {
  kindOf,
  LabelDefinition,
  legacyQuestions,
  Labels,
  PII_PATTERNS,
  Question,
  QUESTION_KINDS,
  Questions,
  type QuestionKindName,
} from '@backflow/questions';

export { LabelDefinition, Labels, Question, QUESTION_KINDS, Questions };

/**
 * What a project's model predicts: `single_label` for a label question (the old form, taskType
 * and labels), otherwise the kind of its routing question.
 */
export const TASK_TYPES = ['single_label', 'multi_label', 'rating', 'numeric', 'text', 'spans', 'ranking', 'generation'] as const;
export const TaskType = z.enum(TASK_TYPES);
export type TaskType = z.infer<typeof TaskType>;
/** (A preference is never the routing question: the contract refuses it, so it has no task type.) */
export const taskTypeOf = (kind: Exclude<QuestionKindName, 'preference'>): TaskType => (kind === 'label' ? 'single_label' : kind);

const probability = z.number().min(0).max(1);

/**
 * `max_entropy`: the largest per-label binary entropy of a multi-label model (`entropy` is their mean; for one label the same as entropy).
 * `vote_entropy` and `kl_divergence`: query-by-committee over the prediction's `scores` and its `committee` (a label question);
 * a prediction without a committee is scored by its entropy.
 */
export const ROUTING_STRATEGIES = ['least_confidence', 'margin', 'entropy', 'max_entropy', 'vote_entropy', 'kl_divergence'] as const;
/** The fields of a routing policy (a preview request adds its own to them). */
export const routingPolicyFields = {
  strategy: z.enum(ROUTING_STRATEGIES).default('least_confidence'),
  threshold: probability.optional().describe('route when the uncertainty score is at least this'),
  targetRate: z.number().gt(0).max(1).optional().describe('route this fraction of the most uncertain predictions'),
  explorationRate: probability.default(0.01),
  challengerRate: probability
    .optional()
    .describe(
      'champion and challenger: a generation whose first two responses come from two model versions is explored at this rate (or the exploration rate when higher), so the pair becomes a comparison task',
    ),
  budget: z
    .strictObject({
      perHour: z.number().int().min(0).optional().describe('at most this many new tasks per clock hour (UTC)'),
      perDay: z.number().int().min(0).optional().describe('at most this many new tasks per UTC day'),
      perBatch: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('at most this many new tasks from one request: a batch or stream of predictions, a batch of feedback, a backfill'),
      perPredictions: z
        .strictObject({
          predictions: z.number().int().min(1).max(100_000_000).describe('the window: this many predictions received, one after another'),
          tasks: z.number().int().min(0).describe('at most this many new tasks in each window'),
        })
        .optional()
        .describe('at most `tasks` new tasks per `predictions` predictions received, whatever the clock says'),
      perSlice: z
        .strictObject({
          key: z.string().min(1).max(64).describe('a slice key, e.g. "country": each of its values gets the caps below'),
          perHour: z.number().int().min(0).optional(),
          perDay: z.number().int().min(0).optional(),
        })
        .optional(),
    })
    .default({})
    .describe('caps on new tasks of every reason; routing drops what does not fit, highest priority first'),
  contradictionConfidence: probability.default(0.8),
  dedupeWindowMinutes: z.number().int().min(0).max(10_080).default(60),
  diversity: z
    .strictObject({
      spread: z
        .boolean()
        .default(true)
        .describe(
          'when the budget leaves room for fewer candidates than a pass has, take them spread over the embedding space (k-center greedy from the highest priority) instead of by priority alone',
        ),
      minDistance: z
        .number()
        .gt(0)
        .max(2)
        .optional()
        .describe(
          'cosine distance under which a candidate counts as a near-duplicate of another routed within dedupeWindowMinutes (or in the same pass), and is dropped',
        ),
    })
    .optional()
    .describe('routing over predictions’ embeddings (predictions without one are routed as before)'),
  sliceBoosts: z.record(z.string().regex(/^[^=]+=.*$/, 'key=value'), z.number().positive().max(100)).default({}),
};

/**
 * A new project's share routed for uncertainty when its request names no routing policy: a target
 * rate follows the model's own scores (a threshold depends on its calibration and its number of
 * classes), and 5% with the 1% explored is a steady flow that a budget can still cap.
 */
export const DEFAULT_TARGET_RATE = 0.05;

/** A policy routes by a fixed threshold or by a target rate, never both. */
export const oneThresholdRule: [(p: { threshold?: number; targetRate?: number }) => boolean, { message: string; path: string[] }] = [
  (p) => !(p.threshold !== undefined && p.targetRate !== undefined),
  { message: 'set threshold or targetRate, not both', path: ['targetRate'] },
];

export const RoutingPolicy = z
  .strictObject(routingPolicyFields)
  .refine(...oneThresholdRule)
  .meta({ id: 'RoutingPolicy' });
export type RoutingPolicy = z.infer<typeof RoutingPolicy>;

/** A rule label that means: the label named by the event's value. */
export const VALUE_LABEL = '$value';
/** A rule answer that means: the model's own output, as it was (a thumbs-up on a response, for a text or a generation). */
export const PREDICTED_ANSWER = '$predicted';

/**
 * What a rule gives the routing question when it is not a label question: a rating, number or
 * text (or "$value": the event's value, checked by the question's kind); for a multi-label
 * question, a whole label set, or one label added to or removed from the set (the model's, or
 * what earlier events made of it).
 */
export const FeedbackAnswer = z.union([
  z.number(),
  z.string().max(10_000),
  z.array(z.string().min(1).max(64)).max(100),
  z.strictObject({ add: z.string().min(1).max(64).describe(`a label, or "${VALUE_LABEL}"`) }),
  z.strictObject({ remove: z.string().min(1).max(64).describe(`a label, or "${VALUE_LABEL}"`) }),
]);
export type FeedbackAnswer = z.infer<typeof FeedbackAnswer>;

const oneOfLabelOrAnswer: [(r: { label?: string; answer?: unknown; grade?: number }) => boolean, { message: string; path: string[] }] = [
  (r) => [r.label, r.answer, r.grade].filter((x) => x !== undefined).length === 1,
  { message: 'give one of label (a label question), answer (another kind) or grade (a ranking)', path: ['answer'] },
];

const oneOfLabelAnswerOrRoute: [(r: { label?: string; answer?: unknown; grade?: number; route?: boolean }) => boolean, { message: string; path: string[] }] = [
  (r) => [r.label, r.answer, r.grade, r.route || undefined].filter((x) => x !== undefined).length === 1,
  { message: 'give one of label (a label question), answer (another kind), grade (a ranking) or route: true', path: ['answer'] },
];

const RuleGrade = z
  .number()
  .int()
  .describe("for a ranking: the grade an event of this type gives the candidate it names (the list's other candidates get the scale's lowest grade)");

export const FeedbackRules = z
  .strictObject({
    rules: z
      .array(
        z
          .strictObject({
            eventType: z.string().min(1).max(64),
            valueEquals: z.union([z.string(), z.number(), z.boolean()]).optional(),
            label: z.string().min(1).max(64).optional().describe(`a project label, or "${VALUE_LABEL}": the label the event's value names (corrections)`),
            answer: FeedbackAnswer.optional().describe('for a routing question of another kind than label: what the event gives it (see FeedbackAnswer)'),
            grade: RuleGrade.optional(),
            windowMinutes: z.number().int().positive().max(525_600).describe('the event counts when it occurs within this many minutes after the prediction'),
            priority: z.number().int().default(0).describe('when several rules match, the highest priority wins'),
            route: z
              .literal(true)
              .optional()
              .describe(
                'instead of a label: an event of this type sends the prediction to raters (reason contradiction, within the budget) and labels nothing, e.g. a thumbs-down or a regenerate',
              ),
          })
          .refine(...oneOfLabelAnswerOrRoute),
      )
      .max(100)
      .default([]),
    absence: z
      .strictObject({
        label: z.string().min(1).max(64).optional(),
        answer: FeedbackAnswer.optional(),
        grade: z.number().int().optional().describe('for a ranking: the grade of every candidate of a list that met no event'),
        windowMinutes: z.number().int().positive().max(525_600),
      })
      .refine(...oneOfLabelOrAnswer)
      .optional()
      .describe('no matching event within the window: this label (or answer), decided when the window closes'),
  })
  .meta({ id: 'FeedbackRules' });
export type FeedbackRules = z.infer<typeof FeedbackRules>;

export const EXPORT_FORMATS = [
  'tfrecord',
  'csv',
  'jsonl',
  'parquet',
  'elwc',
  'item_tfrecord',
  'item_csv',
  'item_jsonl',
  'item_parquet',
  'sft_jsonl',
  'dpo_jsonl',
  'sft_tfrecord',
  'dpo_tfrecord',
] as const;
/** The formats of a ranked list: TensorFlow Ranking's ExampleListWithContext (one record per list), and one flat example per candidate. */
export const RANKING_EXPORT_FORMATS: ReadonlyArray<(typeof EXPORT_FORMATS)[number]> = ['elwc', 'item_tfrecord', 'item_csv', 'item_jsonl', 'item_parquet'];
/** The fine-tuning shapes of a generation: chat `messages` (supervised) and preference pairs (DPO). */
export const GENERATION_EXPORT_FORMATS: ReadonlyArray<(typeof EXPORT_FORMATS)[number]> = ['sft_jsonl', 'dpo_jsonl', 'sft_tfrecord', 'dpo_tfrecord'];

/**
 * The list formats export a ranking, the fine-tuning ones a generation (DPO pairs need a
 * preference question over it): a project whose routing question is another kind has nothing of
 * that shape to write.
 */
export function exportFormatIssues(
  routing: Question,
  formats: readonly string[],
  questions: readonly Question[] = [routing],
): Array<{ path: Array<string | number>; message: string }> {
  return formats.flatMap((format, index) => {
    const path = ['export', 'formats', index];
    const f = format as (typeof EXPORT_FORMATS)[number];
    if (RANKING_EXPORT_FORMATS.includes(f) && routing.kind !== 'ranking')
      return [{ path, message: `${format} writes ranked lists: the routing question "${routing.name}" is ${routing.kind}, not a ranking` }];
    if (GENERATION_EXPORT_FORMATS.includes(f) && routing.kind !== 'generation')
      return [{ path, message: `${format} writes a generation's labels: the routing question "${routing.name}" is ${routing.kind}, not a generation` }];
    if (f.startsWith('dpo_') && !questions.some((q) => q.kind === 'preference' && q.of === routing.name))
      return [{ path, message: `${f} writes preference pairs: no preference question compares the responses of "${routing.name}"` }];
    return [];
  });
}
export const LABEL_SOURCES = ['feedback', 'consensus', 'review', 'gold'] as const;
/** What an export may take: the labels people and feedback gave, and the label model's (`weak`), which a project opts into. */
export const EXPORT_LABEL_SOURCES = [...LABEL_SOURCES, 'weak', 'propagated'] as const;
/** What an exported span does with the project's masked input fields. */
export const MASKED_FIELD_POLICIES = ['drop', 'hash', 'keep'] as const;
export type MaskedFieldPolicy = (typeof MASKED_FIELD_POLICIES)[number];
// masked fields exist because they are private: they leave only when an admin says so
export const DEFAULT_MASKED_FIELD_POLICY: MaskedFieldPolicy = 'drop';
export const ExportSettings = z
  .strictObject({
    formats: z
      .array(z.enum(EXPORT_FORMATS))
      .min(1)
      .default(['tfrecord'])
      .describe(
        'tfrecord, csv, jsonl, parquet: one example per label; for a ranking, also elwc (ExampleListWithContext: one record per list) and item_tfrecord, item_csv, item_jsonl, item_parquet (one example per candidate); for a generation, also sft_jsonl (chat messages) and dpo_jsonl (prompt, chosen, rejected), and the same as tf.Example: sft_tfrecord, dpo_tfrecord',
      ),
    features: z
      .array(z.strictObject({ name: z.string().min(1).max(128), type: z.enum(['int', 'float', 'bytes']) }))
      .max(1000)
      // one feature per name in a tf.Example, a CSV header and schema.pbtxt
      .superRefine(
        eachOnce(
          (feature) => feature.name,
          (name) => `feature "${name}" is declared twice`,
          ['name'],
        ),
      )
      .optional(),
    splits: z
      .strictObject({ train: z.number().int().min(0).max(100), eval: z.number().int().min(0).max(100) })
      .refine((s) => s.train + s.eval === 100, { message: 'train + eval must be 100', path: ['eval'] })
      .default({ train: 80, eval: 20 }),
    sources: z
      .array(z.enum(EXPORT_LABEL_SOURCES))
      .min(1)
      .default([...LABEL_SOURCES])
      .describe('the labels a span takes, by source; `weak` (the label model’s, from labeling functions) only when listed, each weighted by its probability'),
    minAgreement: probability.optional(),
    maskedFields: z
      .enum(MASKED_FIELD_POLICIES)
      .default(DEFAULT_MASKED_FIELD_POLICY)
      .describe(
        "the project's masked input fields in exported spans: drop (left out: the default), hash (HMAC-SHA256 with a key of the project's own that no API returns, hex bytes: the same value gives the same hash in every span, so joins still work), or keep (as stored)",
      ),
    schedule: z
      .string()
      .max(100)
      .refine((expression) => {
        try {
          return expression.trim().split(/\s+/).length === 5 && Boolean(CronExpressionParser.parse(expression, { tz: 'UTC' }));
        } catch {
          return false;
        }
      }, 'a cron expression of five fields (minute hour day-of-month month day-of-week), in UTC')
      .optional()
      .describe('export the new labels on this cron schedule (UTC); absent: on demand only'),
    webhook: z
      .strictObject({
        url: WebhookUrl,
        secret: z.string().min(16).max(200).describe('signs each delivery: X-Backflow-Signature: sha256=<HMAC-SHA256 of the body, hex>'),
      })
      .optional()
      .describe('POSTed the manifest when a span version is complete, retried with backoff until it answers 2xx'),
  })
  .meta({ id: 'ExportSettings' });
export type ExportSettings = z.infer<typeof ExportSettings>;

export const CONSENSUS_METHODS = ['majority', 'dawid_skene'] as const;
export type ConsensusMethod = (typeof CONSENSUS_METHODS)[number];

export const LabelingSettings = z
  .strictObject({
    leaseSeconds: z.number().int().min(10).max(3_600).default(120).describe('how long a claimed task stays a rater’s without a heartbeat'),
    agreementThreshold: probability.default(0.6).describe('below this share for the majority label, one more rater is added, then a reviewer decides'),
    maxAnnotations: z
      .number()
      .int()
      .min(1)
      .max(25)
      .optional()
      .describe(
        'the most raters a task may get before it goes to review; above the overlap, a disagreement first gets one more rater at a time (default: the overlap: a disagreement goes straight to review)',
      ),
    showPrediction: z.boolean().default(false).describe("show the model's prediction to raters as a suggestion (off: raters label blind)"),
    goldRate: z.number().min(0).max(0.5).default(0.05).describe("the share of a rater's claims answered with a gold item they have not seen"),
    goldMinAnswers: z.number().int().min(1).max(1_000).default(10).describe('gold answers before a rater can be paused'),
    goldMinAccuracy: probability.default(0.7).describe('below this accuracy on gold, a rater is paused in the project'),
    pii: z
      .strictObject({
        patterns: z.array(z.enum(PII_PATTERNS)).max(PII_PATTERNS.length).describe('email, phone, card: replaced by [email], [phone], [card]'),
        forAdmins: z.boolean().default(false).describe('admins see the placeholders too (off: an admin claiming a task sees the text as sent)'),
      })
      .optional()
      .describe(
        'personal data in free text hidden from raters and reviewers: every string of a task’s input and the suggestions it shows, masked by pattern before it leaves the server',
      ),
    layout: TaskLayout.optional().describe(
      'how raters read an item: its input fields in order and the one that is the text to read (unset: headings such as subject or title first, then the field named like text, body or content, then the rest by name)',
    ),
    undoSeconds: z
      .number()
      .int()
      .min(0)
      .max(60)
      .optional()
      .describe(
        `how long the rater UI holds an answer before sending it, so Undo (Z) takes it back even when one answer decides the task (default ${DEFAULT_UNDO_SECONDS}; 0 sends at once)`,
      ),
    consensus: z
      .enum(CONSENSUS_METHODS)
      .default('majority')
      .describe(
        'how answers become a label: majority vote at once, or majority at once and Dawid-Skene re-estimated by a job (labels not yet exported may change)',
      ),
  })
  .meta({ id: 'LabelingSettings' });
export type LabelingSettings = z.infer<typeof LabelingSettings>;

const settings = {
  instructions: z.string().max(100_000),
  overlap: z.number().int().min(1).max(25),
  maskedFields: z
    .array(z.string().min(1).max(128))
    .max(1000)
    .superRefine(
      eachOnce(
        (field) => field,
        (field) => `"${field}" is masked twice`,
      ),
    ),
};

/** Feedback rules label the routing question: a label question's rules name its labels, another kind's give answers it takes. */
export function feedbackRuleIssues(routing: Question, feedbackRules: FeedbackRules): Array<{ path: Array<string | number>; message: string }> {
  if (routing.kind === 'label') {
    const issues = labelReferenceIssues(routing.labels, feedbackRules);
    feedbackRules.rules.forEach((rule, index) => {
      if (rule.answer !== undefined || rule.grade !== undefined)
        issues.push({
          path: ['feedbackRules', 'rules', index, rule.answer !== undefined ? 'answer' : 'grade'],
          message: `"${routing.name}" is a label question: give label`,
        });
    });
    const absence = feedbackRules.absence;
    if (absence?.answer !== undefined || absence?.grade !== undefined)
      issues.push({
        path: ['feedbackRules', 'absence', absence.answer !== undefined ? 'answer' : 'grade'],
        message: `"${routing.name}" is a label question: give label`,
      });
    return issues;
  }
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  if (routing.kind === 'ranking') {
    const grades = routing.grades.map((g) => g.value);
    const checkGrade = (rule: { label?: string; answer?: FeedbackAnswer; grade?: number }, path: Array<string | number>) => {
      if (rule.grade === undefined)
        issues.push({ path: [...path, rule.label !== undefined ? 'label' : 'answer'], message: `"${routing.name}" is a ranking: give grade` });
      else if (!grades.includes(rule.grade)) issues.push({ path: [...path, 'grade'], message: `one of "${routing.name}"'s grades: ${grades.join(', ')}` });
    };
    feedbackRules.rules.forEach((rule, index) => rule.route || checkGrade(rule, ['feedbackRules', 'rules', index]));
    if (feedbackRules.absence) checkGrade(feedbackRules.absence, ['feedbackRules', 'absence']);
    return issues;
  }
  const check = (rule: { label?: string; answer?: FeedbackAnswer; grade?: number }, path: Array<string | number>, mayUseValue: boolean) => {
    if (rule.grade !== undefined) {
      issues.push({ path: [...path, 'grade'], message: `a grade is for a ranking; "${routing.name}" is a ${routing.kind} question: give answer` });
      return;
    }
    if (rule.label !== undefined) {
      issues.push({ path: [...path, 'label'], message: `"${routing.name}" is a ${routing.kind} question: give answer` });
      return;
    }
    const problem = feedbackAnswerIssue(routing, rule.answer!, mayUseValue);
    if (problem) issues.push({ path: [...path, 'answer', ...problem.path], message: problem.message });
  };
  feedbackRules.rules.forEach((rule, index) => rule.route || check(rule, ['feedbackRules', 'rules', index], true));
  if (feedbackRules.absence) check(feedbackRules.absence, ['feedbackRules', 'absence'], false);
  return issues;
}

/** Dawid-Skene classes the answers of a label question: a project routing by another kind cannot decide by it. */
export function consensusIssue(consensus: ConsensusMethod | undefined, routing: Question): string | undefined {
  return consensus === 'dawid_skene' && routing.kind !== 'label'
    ? `dawid_skene classes the answers of a label question; the routing question "${routing.name}" is ${routing.kind} (use majority)`
    : undefined;
}

/** Feedback rules of a label question may only name its labels. */
export function labelReferenceIssues(labels: LabelDefinition[], feedbackRules: FeedbackRules): Array<{ path: Array<string | number>; message: string }> {
  const names = new Set(labels.map((l) => l.name));
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  feedbackRules.rules.forEach((rule, index) => {
    if (rule.label !== undefined && rule.label !== VALUE_LABEL && !names.has(rule.label))
      issues.push({ path: ['feedbackRules', 'rules', index, 'label'], message: `"${rule.label}" is not one of the project's labels` });
  });
  const absence = feedbackRules.absence;
  if (absence?.label !== undefined && !names.has(absence.label))
    issues.push({ path: ['feedbackRules', 'absence', 'label'], message: `"${absence.label}" is not one of the project's labels` });
  return issues;
}

/** What is wrong with a rule's answer for the routing question; "$value" stands for the event's value where an event is at hand. */
function feedbackAnswerIssue(routing: Question, answer: FeedbackAnswer, mayUseValue: boolean): { path: Array<string | number>; message: string } | undefined {
  if (routing.kind === 'spans') return { path: [], message: `feedback rules cannot make spans ("${routing.name}")` };
  const isEdit = typeof answer === 'object' && !Array.isArray(answer);
  if (routing.kind === 'multi_label' && isEdit) {
    const [key, label] = Object.entries(answer)[0];
    if (label === VALUE_LABEL) return mayUseValue ? undefined : { path: [key], message: `no event value to read when the window closes with none` };
    return routing.labels.some((l) => l.name === label) ? undefined : { path: [key], message: `"${label}" is not one of "${routing.name}"'s labels` };
  }
  if (isEdit) return { path: [], message: `add and remove edit a multi-label answer; "${routing.name}" is ${routing.kind}` };
  if (answer === VALUE_LABEL) return mayUseValue ? undefined : { path: [], message: 'no event value to read when the window closes with none' };
  if (answer === PREDICTED_ANSWER)
    return routing.kind === 'text' || routing.kind === 'generation'
      ? undefined
      : { path: [], message: `"${PREDICTED_ANSWER}" keeps a text or a generation as the model wrote it; "${routing.name}" is ${routing.kind}` };
  const checked = kindOf(routing).answer(routing, answer);
  return checked.ok ? undefined : { path: checked.issue.path, message: checked.issue.message };
}

/**
 * How long raw predictions are kept (issue 22). Unset: every prediction is kept, as before.
 * Predictions older than `days` that no task, label, pending feedback window or export needs
 * are removed whole partitions at a time; with `archive`, written first as Parquet.
 */
export const RetentionSettings = z
  .strictObject({
    days: z.number().int().min(1).max(3650).describe('predictions whose timestamp is older than this many days may be removed'),
    archive: z.boolean().default(false).describe('write what is removed as Parquet, Hive-partitioned by day, under the archive root first'),
  })
  .meta({ id: 'RetentionSettings' });
export type RetentionSettings = z.infer<typeof RetentionSettings>;

/** A retention run now, or as of an earlier time (a replay, a benchmark): never later than now, so it never removes what the policy keeps. */
export const RetentionRunRequest = z
  .strictObject({
    asOf: Timestamp.optional().describe('run as if it were this time (at most now): the cutoff is `retention.days` before it'),
  })
  .meta({ id: 'RetentionRunRequest' });
export type RetentionRunRequest = z.infer<typeof RetentionRunRequest>;

/** Archived predictions to read back, by the days of their timestamps (UTC, inclusive). */
export const RestoreRequest = z
  .strictObject({
    from: z.iso.date().describe('the first day (YYYY-MM-DD)'),
    to: z.iso.date().describe('the last day'),
  })
  .refine((r) => r.from <= r.to, { message: 'from comes before to', path: ['to'] })
  .meta({ id: 'RestoreRequest' });
export type RestoreRequest = z.infer<typeof RestoreRequest>;

export const RestoreReply = z
  .object({
    files: z.number().int().describe('archive files read'),
    read: z.number().int().describe('predictions in them'),
    restored: z.number().int().describe('stored again (the others were still stored)'),
    tasks: z.number().int().describe('tasks the current routing policy made of them'),
  })
  .meta({ id: 'RestoreReply' });
export type RestoreReply = z.infer<typeof RestoreReply>;

/** What a retention run did. */
export const RetentionReply = z
  .object({
    dropped: z.number().int().describe('predictions removed (their partitions dropped or rewritten without them)'),
    kept: z
      .number()
      .int()
      .describe(
        'predictions past the cutoff kept because a task, label, open window or unapplied feedback needs them, in the partitions this run looked at (one left holding only what tasks and labels keep is passed by until a prediction is stored in it again)',
      ),
    archived: z.number().int().describe('predictions written to the archive before they were removed'),
    files: z.array(z.string()).describe('the archive files written (paths or s3:// URLs)'),
    partitions: z.number().int().describe('partitions past the cutoff looked at'),
    deferred: z.number().int().describe('partitions left for the next run: one changed while it ran, or capture held the table past a second'),
  })
  .meta({ id: 'RetentionReply' });
export type RetentionReply = z.infer<typeof RetentionReply>;

export const CreateProjectRequest = z
  .strictObject({
    slug: Slug,
    name: z.string().trim().min(1).max(200),
    taskType: z.literal('single_label').optional().describe('the old form, with labels: one label question named "label"'),
    labels: Labels.optional().describe('with taskType single_label: the labels of its one question'),
    questions: Questions.optional().describe('what raters are asked of each item, shown together on one task'),
    routingQuestion: z.string().optional().describe("the question the model's output is for (routing, monitoring and feedback read it); default: the first"),
    instructions: settings.instructions.default(''),
    overlap: settings.overlap.default(1),
    maskedFields: settings.maskedFields.default([]),
    labeling: LabelingSettings.default(LabelingSettings.parse({})),
    routing: RoutingPolicy.default(RoutingPolicy.parse({ targetRate: DEFAULT_TARGET_RATE })).describe(
      'default: the 5% the model is least sure of (least confidence) and a 1% random sample',
    ),
    feedbackRules: FeedbackRules.default(FeedbackRules.parse({})),
    export: ExportSettings.default(ExportSettings.parse({})),
    monitoring: MonitoringSettings.default(MonitoringSettings.parse({})),
    integrations: IntegrationSettings.default(IntegrationSettings.parse({})),
    retention: RetentionSettings.nullable().default(null).describe('unset (null): keep every prediction'),
    weakSupervision: WeakSupervisionSettings.default(WeakSupervisionSettings.parse({})).describe('labeling functions, and what their votes do'),
  })
  .superRefine((project, ctx) => {
    if (project.questions && (project.labels || project.taskType)) {
      ctx.addIssue({ code: 'custom', message: 'give questions, or taskType and labels (one label question), not both', path: ['questions'] });
      return;
    }
    if (!project.questions) {
      if (!project.labels) ctx.addIssue({ code: 'custom', message: 'questions (or taskType and labels) are required', path: ['questions'] });
      else if (!project.taskType) ctx.addIssue({ code: 'custom', message: 'taskType "single_label" goes with labels', path: ['taskType'] });
      if (project.routingQuestion !== undefined && project.routingQuestion !== 'label')
        ctx.addIssue({ code: 'custom', message: 'the one question of taskType and labels is named "label"', path: ['routingQuestion'] });
      if (project.labels) {
        const [legacy] = legacyQuestions(project.labels);
        for (const issue of [
          ...feedbackRuleIssues(legacy, project.feedbackRules),
          ...exportFormatIssues(legacy, project.export.formats),
          ...weakSupervisionIssues(legacy, project.weakSupervision),
        ])
          ctx.addIssue({ code: 'custom', ...issue });
      }
      return;
    }
    const routing = project.routingQuestion === undefined ? project.questions[0] : project.questions.find((q) => q.name === project.routingQuestion);
    if (!routing) {
      ctx.addIssue({ code: 'custom', message: `"${project.routingQuestion}" is not one of the project's questions`, path: ['routingQuestion'] });
      return;
    }
    if (!routing.required) ctx.addIssue({ code: 'custom', message: 'the routing question must be required', path: ['routingQuestion'] });
    if (routing.kind === 'preference')
      ctx.addIssue({ code: 'custom', message: 'a preference is the raters’ alone: route on the generation question it compares', path: ['routingQuestion'] });
    const consensus = consensusIssue(project.labeling.consensus, routing);
    if (consensus) ctx.addIssue({ code: 'custom', message: consensus, path: ['labeling', 'consensus'] });
    for (const issue of [
      ...feedbackRuleIssues(routing, project.feedbackRules),
      ...exportFormatIssues(routing, project.export.formats, project.questions),
      ...weakSupervisionIssues(routing, project.weakSupervision),
    ])
      ctx.addIssue({ code: 'custom', ...issue });
  })
  .meta({ id: 'CreateProjectRequest' });
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    labels: Labels.optional(),
    instructions: settings.instructions.optional(),
    overlap: settings.overlap.optional(),
    maskedFields: settings.maskedFields.optional(),
    labeling: LabelingSettings.optional(),
    routing: RoutingPolicy.optional(),
    feedbackRules: FeedbackRules.optional(),
    export: ExportSettings.optional(),
    monitoring: MonitoringSettings.optional(),
    integrations: IntegrationSettings.optional(),
    retention: RetentionSettings.nullable().optional().describe('null: keep every prediction from now on'),
    weakSupervision: WeakSupervisionSettings.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' })
  .meta({ id: 'UpdateProjectRequest' });
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const DeleteProjectQuery = z.strictObject({ confirm: z.string().describe('the slug again') });
export type DeleteProjectQuery = z.infer<typeof DeleteProjectQuery>;

export const ProjectResponse = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    taskType: TaskType.describe('single_label for a label routing question, else its kind'),
    labels: z.array(LabelDefinition).describe("the routing question's labels (none for a kind without labels)"),
    questions: z.array(Question),
    routingQuestion: z.string(),
    instructions: z.string(),
    overlap: z.number().int(),
    maskedFields: z.array(z.string()).optional().describe('admins only'),
    labeling: LabelingSettings.optional().describe('admins only'),
    routing: RoutingPolicy.optional().describe('admins only'),
    feedbackRules: FeedbackRules.optional().describe('admins only'),
    export: ExportSettings.optional().describe('admins only'),
    monitoring: MonitoringSettings.optional().describe('admins only'),
    integrations: IntegrationSettings.optional().describe('admins only'),
    retention: RetentionSettings.nullable().optional().describe('admins only'),
    weakSupervision: WeakSupervisionSettings.optional().describe('admins only'),
    myRole: z.enum(['admin', 'reviewer', 'rater', 'api_key']).describe('the caller’s role on this project'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Project' });
export type ProjectResponse = z.infer<typeof ProjectResponse>;

export const ProjectListResponse = z
  .object({
    projects: z.array(ProjectResponse),
    items: z.array(ProjectResponse).describe('the same list under the generic name that scripts read any list reply by'),
  })
  .meta({ id: 'ProjectList' });
export type ProjectListResponse = z.infer<typeof ProjectListResponse>;
