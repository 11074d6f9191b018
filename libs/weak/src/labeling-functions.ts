import safeRegex from 'safe-regex2';

/**
 * Labeling functions (Snorkel's LFs): rules over a prediction's features and slices that vote a
 * label or abstain. Each is a plain description (kept in a project's settings as JSON), compiled
 * once into a function of a prediction.
 */

/** Where a rule reads its value: a feature of the input, or a slice key. */
export type Field = { feature: string; slice?: never } | { slice: string; feature?: never };

export type Condition =
  /** any of the words or phrases occurs in the text, as whole words (letters and digits around it do not count) */
  | { kind: 'keywords'; on: Field; keywords: readonly string[]; caseSensitive?: boolean }
  /** the regular expression matches somewhere in the text */
  | { kind: 'regex'; on: Field; pattern: string; flags?: string }
  /** the number is at least `min` and below `max` (either may be left out) */
  | { kind: 'threshold'; on: Field; min?: number; max?: number }
  /** the value (or any element of a list) is one of these */
  | { kind: 'in'; on: Field; values: ReadonlyArray<string | number | boolean> }
  /** the model's own score for label `of` is at least `min` and at most `max` */
  | { kind: 'score'; of: string; min?: number; max?: number };

export interface LabelingFunctionDefinition {
  name: string;
  /** the label it votes when its condition holds */
  label: string;
  when: Condition;
  /** off: kept, but votes nothing */
  enabled?: boolean;
}

/** What a labeling function reads of a prediction. */
export interface Votable {
  /** the features, by name (anything else has none) */
  input: unknown;
  slice: Readonly<Record<string, string>> | null;
  scores: Readonly<Record<string, number>> | null;
}

/** A vote: the label, or null to abstain. */
export type Vote = string | null;
export type LabelingFunction = (prediction: Votable) => Vote;

export const REGEX_FLAGS = /^[imsu]*$/;
export const MAX_PATTERN_LENGTH = 500;

/**
 * Why a pattern is refused, or undefined when it may run on traffic: it must compile, use only
 * the flags i, m, s, u, and pass safe-regex2's check for catastrophic backtracking (no nested
 * quantifier: a star height above 1, and at most 25 repetitions).
 */
export function unsafePattern(pattern: string, flags = ''): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `a pattern of at most ${MAX_PATTERN_LENGTH} characters`;
  if (!REGEX_FLAGS.test(flags) || new Set(flags).size !== flags.length) return 'flags among i, m, s and u, each once';
  let compiled: RegExp;
  try {
    compiled = new RegExp(pattern, flags);
  } catch (error) {
    return `not a regular expression: ${(error as Error).message}`;
  }
  if (!safeRegex(compiled)) return 'it could backtrack catastrophically (a quantifier inside a quantifier, or too many repetitions): write it without nesting';
  return undefined;
}

function valueOf(on: Field, prediction: Votable): unknown {
  if (on.slice !== undefined) return prediction.slice?.[on.slice];
  const input = prediction.input;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  return Object.prototype.hasOwnProperty.call(input, on.feature) ? (input as Record<string, unknown>)[on.feature] : undefined;
}

const texts = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function matcher(condition: Condition): (prediction: Votable) => boolean {
  switch (condition.kind) {
    case 'keywords': {
      if (condition.keywords.length === 0) return () => false;
      // whole words in any script: no letter, digit or underscore just before or after
      const words = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${condition.keywords.map(escape).join('|')})(?![\\p{L}\\p{N}_])`, condition.caseSensitive ? 'u' : 'iu');
      return (p) => texts(valueOf(condition.on, p)).some((text) => words.test(text));
    }
    case 'regex': {
      const reason = unsafePattern(condition.pattern, condition.flags);
      if (reason) throw new RangeError(`pattern refused: ${reason}`);
      const pattern = new RegExp(condition.pattern, condition.flags);
      return (p) => texts(valueOf(condition.on, p)).some((text) => pattern.test(text));
    }
    case 'threshold':
      return (p) => {
        const value = valueOf(condition.on, p);
        const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
        return Number.isFinite(number) && (condition.min === undefined || number >= condition.min) && (condition.max === undefined || number < condition.max);
      };
    case 'in': {
      const values = new Set<unknown>(condition.values);
      return (p) => {
        const value = valueOf(condition.on, p);
        return Array.isArray(value) ? value.some((v) => values.has(v)) : values.has(value);
      };
    }
    case 'score':
      return (p) => {
        const score = p.scores?.[condition.of];
        return typeof score === 'number' && (condition.min === undefined || score >= condition.min) && (condition.max === undefined || score <= condition.max);
      };
  }
}

/** The function a definition describes: its label when the condition holds and it is enabled, else an abstention. */
export function compileLabelingFunction(definition: LabelingFunctionDefinition): LabelingFunction {
  if (definition.enabled === false) return () => null;
  const holds = matcher(definition.when);
  return (prediction) => (holds(prediction) ? definition.label : null);
}

/** Every function's vote on each prediction: votes[i][j] is function j's on prediction i. */
export function voteMatrix(functions: readonly LabelingFunction[], predictions: readonly Votable[]): Vote[][] {
  return predictions.map((p) => functions.map((f) => f(p)));
}
