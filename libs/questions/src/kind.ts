import type { z } from 'zod';

/** Where a value was found wanting: the path under the value checked, and why. */
export interface Issue {
  path: Array<string | number>;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issue: Issue };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const fail = (message: string, ...path: Array<string | number>): Checked<never> => ({ ok: false, issue: { path, message } });

/** The routing strategies a project's policy names; each kind reads them its own way (see `uncertainty`). */
export type Strategy = 'least_confidence' | 'margin' | 'entropy' | 'max_entropy';

/** What a kind's consensus says about the answers one question got. */
export type KindDecision<A> = { decided: true; value: A; agreement: number } | { decided: false; agreement: number };

/** One exported column of a question (a tf.Example feature, a CSV/Parquet column, a JSONL key). */
export interface AnswerColumn<A> {
  name: string;
  type: 'int' | 'float' | 'bytes';
  /** a list feature (int64_list of several values); otherwise one value */
  list: boolean;
  /** an index into the question's labels: the schema gives its domain */
  domain?: { min: number; max: number };
  values: (answer: A) => Array<number | string>;
}

/** How raters' agreement on a question is measured: Krippendorff's α with a distance, or pairwise span F1. */
export type AgreementMeasure = { kind: 'alpha'; distance: 'nominal' | 'ordinal' | 'interval' | 'masi' } | { kind: 'span_f1' };

/** Context an answer is checked in: the item's input (spans are offsets into one of its fields). */
export interface AnswerContext {
  input?: Readonly<Record<string, unknown>>;
}

/**
 * One question kind: everything Backflow does with a question of that kind, without a
 * framework. Q is the question as the project defines it, S the model's suggestion for it,
 * A a rater's answer.
 */
export interface QuestionKind<Q extends { name: string }, S, A> {
  readonly kind: string;
  /** the question's settings as a project sends them (name, kind and required come from the shared base) */
  readonly settings: z.ZodType<Q>;
  /** the model's output for the question, as a prediction's `suggestions.<name>` carries it */
  suggestion(question: Q, raw: unknown, context?: AnswerContext): Checked<S>;
  /** how unsure the model is, in [0, 1]: what routing compares with its threshold */
  uncertainty(question: Q, suggestion: S, strategy: Strategy): number;
  /** how sure the model is of its own output, in [0, 1] (stored with the prediction) */
  confidence(question: Q, suggestion: S): number;
  /** the model's output as an answer would hold it: what a rater's answer is compared with; undefined when its output is no answer (a ranking's order grades nothing) */
  predicted(question: Q, suggestion: S): A | undefined;
  /** a rater's answer, checked against the question (and the item's input where offsets point into it) */
  answer(question: Q, raw: unknown, context?: AnswerContext): Checked<A>;
  /** the answers of several raters to one question (the reference the SQL consensus is held equal to) */
  consensus(question: Q, answers: readonly A[], threshold: number): KindDecision<A>;
  readonly agreement: (question: Q) => AgreementMeasure;
  /** the exported columns of the question, in order */
  columns(question: Q): Array<AnswerColumn<A>>;
}
