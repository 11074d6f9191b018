import { z } from 'zod';

export const QUESTION_KINDS = ['label', 'multi_label', 'rating', 'numeric', 'text', 'spans', 'ranking', 'generation', 'preference'] as const;
export type QuestionKindName = (typeof QUESTION_KINDS)[number];

/** A question's name: it names the exported feature, so it is an identifier. */
export const QuestionName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lowercase identifier: a letter, then letters, digits or _ (at most 63)');

export const LabelDefinition = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^\S(.*\S)?$/, 'no leading or trailing spaces')
    // a feedback rule's label "$value" means the event's own value: a label of that name could not be told from it
    .refine((name) => name !== '$value', '"$value" is reserved: in a feedback rule it stands for the event\'s value'),
  hotkey: z
    .string()
    .regex(/^[0-9a-z]$/, 'one lowercase letter or digit')
    .optional(),
  description: z.string().max(500).optional(),
});
export type LabelDefinition = z.infer<typeof LabelDefinition>;

/**
 * Names and hotkeys each used once. Names that differ only in case or in Unicode form (`café`
 * composed or decomposed) look the same to a rater, so they count as one.
 */
function uniqueNamesAndHotkeys(items: ReadonlyArray<{ name: string; hotkey?: string }>, ctx: z.RefinementCtx, what: string): void {
  const names = new Map<string, string>();
  const hotkeys = new Set<string>();
  items.forEach((item, index) => {
    const key = item.name.normalize('NFC').toLowerCase();
    const earlier = names.get(key);
    if (earlier === item.name) ctx.addIssue({ code: 'custom', message: `${what} "${item.name}" appears twice`, path: [index, 'name'] });
    else if (earlier !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: `${what} "${item.name}" is "${earlier}" to a rater (they differ only in case or Unicode form); give each its own name`,
        path: [index, 'name'],
      });
    else names.set(key, item.name);
    if (item.hotkey && hotkeys.has(item.hotkey)) ctx.addIssue({ code: 'custom', message: `hotkey "${item.hotkey}" is used twice`, path: [index, 'hotkey'] });
    if (item.hotkey) hotkeys.add(item.hotkey);
  });
}

export const Labels = z
  .array(LabelDefinition)
  .min(2, 'at least two labels')
  .max(100)
  .superRefine((labels, ctx) => uniqueNamesAndHotkeys(labels, ctx, 'label'));

const base = {
  name: QuestionName,
  required: z.boolean().default(true).describe('a rater must answer it; a question that is not required may be left blank'),
  description: z.string().max(2_000).optional().describe('shown to raters above the question'),
};

export const LabelQuestion = z.strictObject({ ...base, kind: z.literal('label'), labels: Labels });
export type LabelQuestion = z.infer<typeof LabelQuestion>;

export const MultiLabelQuestion = z.strictObject({
  ...base,
  kind: z.literal('multi_label'),
  labels: z
    .array(LabelDefinition)
    .min(1, 'at least one label')
    .max(100)
    .superRefine((labels, ctx) => uniqueNamesAndHotkeys(labels, ctx, 'label')),
});
export type MultiLabelQuestion = z.infer<typeof MultiLabelQuestion>;

const RatingPoint = z.strictObject({
  value: z.number().int().min(-1_000).max(1_000),
  name: z.string().min(1).max(64),
  hotkey: z
    .string()
    .regex(/^[0-9a-z]$/, 'one lowercase letter or digit')
    .optional(),
});

/** Where a number's model output matters most: the closer to one of these, the more a human is wanted. */
const decisionThresholds = z
  .array(z.number().refine(Number.isFinite, 'a finite number'))
  .max(20)
  .optional()
  .describe('values where a decision turns (e.g. a price that changes a tier): a prediction near one is uncertain');

/** An ordinal scale: 2 to 11 named points whose values rise strictly. */
const scalePoints = (what: string) =>
  z
    .array(RatingPoint)
    .min(2, `at least two ${what}s`)
    .max(11)
    .superRefine((points, ctx) => {
      uniqueNamesAndHotkeys(points, ctx, what);
      points.forEach((point, index) => {
        if (index > 0 && point.value <= points[index - 1].value)
          ctx.addIssue({ code: 'custom', message: `${what} values rise strictly, in scale order`, path: [index, 'value'] });
      });
    });

export const RatingQuestion = z.strictObject({
  ...base,
  kind: z.literal('rating'),
  points: scalePoints('point'),
  maxSpread: z.number().int().min(0).max(10).default(1).describe('raters agree when their answers lie within this many points of the median'),
  decisionThresholds,
});
export type RatingQuestion = z.infer<typeof RatingQuestion>;

const finite = z.number().refine(Number.isFinite, 'a finite number');

export const NumericQuestion = z
  .strictObject({
    ...base,
    kind: z.literal('numeric'),
    min: finite.optional(),
    max: finite.optional(),
    integer: z.boolean().default(false).describe('answers are whole numbers'),
    unit: z.string().max(32).optional(),
    tolerance: z.number().min(0).default(0).describe('answers within this distance of the median agree (or within relativeTolerance × |median|)'),
    relativeTolerance: z.number().min(0).max(1).default(0.05),
    uncertaintyScale: z
      .number()
      .gt(0)
      .optional()
      .describe("a predictive interval this wide is fully uncertain (default: max − min, or the model's value when unbounded)"),
    decisionThresholds,
  })
  .refine((q) => q.min === undefined || q.max === undefined || q.min <= q.max, { message: 'min is at most max', path: ['max'] });
export type NumericQuestion = z.infer<typeof NumericQuestion>;

export const TextQuestion = z.strictObject({
  ...base,
  kind: z.literal('text'),
  maxLength: z.number().int().min(1).max(65_536).default(10_000),
  prefill: z.boolean().default(true).describe("the text box starts with the model's text when it sent one (correction)"),
});
export type TextQuestion = z.infer<typeof TextQuestion>;

export const SpansQuestion = z.strictObject({
  ...base,
  kind: z.literal('spans'),
  field: z.string().min(1).max(128).describe('the input field (text) the spans point into'),
  labels: z
    .array(LabelDefinition)
    .min(1, 'at least one label')
    .max(100)
    .superRefine((labels, ctx) => uniqueNamesAndHotkeys(labels, ctx, 'label')),
  allowOverlap: z.boolean().default(true),
});
export type SpansQuestion = z.infer<typeof SpansQuestion>;

/**
 * A ranked list: the model suggests candidates for a context (the prediction's input) in an
 * order, and raters grade each candidate's relevance on an ordinal scale.
 */
export const RankingQuestion = z
  .strictObject({
    ...base,
    kind: z.literal('ranking'),
    grades: scalePoints('grade').describe('the relevance scale, e.g. 0 (bad) to 3 (perfect)'),
    maxItems: z.number().int().min(1).max(200).default(50).describe('the most candidates one list may carry'),
    k: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(10)
      .describe('the top of the list that matters: uncertainty reads the top k scores, NDCG@k and precision@k stop there'),
    relevantFrom: z.number().int().optional().describe('the lowest grade that counts as relevant (MRR, precision@k); default: the second grade'),
    maxSpread: z.number().int().min(0).max(10).default(1).describe('raters agree on an item when their grades lie within this many grades of its median'),
    temperature: z.number().gt(0).max(1_000).default(1).describe('scores are read as logits: softmax(score / temperature) over the top k'),
  })
  .refine((q) => q.relevantFrom === undefined || q.grades.some((g) => g.value === q.relevantFrom), {
    message: "one of the grades' values",
    path: ['relevantFrom'],
  });
export type RankingQuestion = z.infer<typeof RankingQuestion>;

/**
 * A generative model's output: the conversation it answered and one or more responses (samples,
 * or versions side by side). A rater's answer is the corrected response, a text pre-filled with
 * the first response.
 */
export const GenerationQuestion = z.strictObject({
  ...base,
  kind: z.literal('generation'),
  maxLength: z.number().int().min(1).max(65_536).default(20_000).describe('the longest response (and correction), in characters'),
  maxResponses: z.number().int().min(1).max(8).default(4).describe('the most responses one prediction may carry'),
  maxMessages: z.number().int().min(0).max(200).default(50).describe('the longest conversation before the response'),
});
export type GenerationQuestion = z.infer<typeof GenerationQuestion>;

/**
 * Which of two responses of a generation question is better: the first two responses of its
 * prediction (samples, or a champion and a challenger), shown side by side in an order drawn per
 * task. The model suggests nothing: a preference is the raters' alone.
 */
export const PreferenceQuestion = z.strictObject({
  ...base,
  kind: z.literal('preference'),
  of: QuestionName.describe('the generation question whose first two responses are compared'),
});
export type PreferenceQuestion = z.infer<typeof PreferenceQuestion>;

export const Question = z.discriminatedUnion('kind', [
  LabelQuestion,
  MultiLabelQuestion,
  RatingQuestion,
  NumericQuestion,
  TextQuestion,
  SpansQuestion,
  RankingQuestion,
  GenerationQuestion,
  PreferenceQuestion,
]);
export type Question = z.infer<typeof Question>;
/** A question as a project sends it (defaults not yet applied). */
export type QuestionInput = z.input<typeof Question>;

/** A labeled span: offsets in Unicode code points of the field's text, end exclusive. */
export interface Span {
  start: number;
  end: number;
  label: string;
}
export type ScoredSpan = Span & { score?: number };

/** A candidate's relevance grade, by the item's id. */
export interface GradedItem {
  item: string;
  grade: number;
}

/** The answer types, by kind. */
export interface AnswerOf {
  label: string;
  multi_label: string[];
  rating: number;
  numeric: number;
  text: string;
  spans: Span[];
  /** every candidate graded, in item id order */
  ranking: GradedItem[];
  /** the corrected response */
  generation: string;
  preference: PreferenceAnswer;
}

/** The better of two responses (`first`, `second`, or neither: `tie`, `both_bad`), and the one the rater saw on the left. */
export interface PreferenceAnswer {
  preferred: 'first' | 'second' | 'tie' | 'both_bad';
  left: 'first' | 'second';
}
export type Answer = AnswerOf[QuestionKindName];
export type Answers = Record<string, Answer>;
