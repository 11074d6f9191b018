import { entropy, leastConfidence, margin } from '@backflow/sampling';
import { RankingQuestion, type GradedItem } from '../definitions';
import { fail, ok, type Checked, type QuestionKind } from '../kind';
import { isFiniteNumber, isObject, lowerMedian } from '../shared';

/** A candidate's id: printable ASCII without spaces, so that every reader orders ids alike (code units, bytes, SQL's "C"). */
const ITEM_ID = /^[\x21-\x7e]{1,128}$/;
const ITEM_ID_RULE = '1 to 128 printable ASCII characters, no spaces';

/** What a candidate may carry about the item (catalog features), beside the prediction's context. */
export const ITEM_FEATURE_LIMITS = { features: 64, keyLength: 128, stringLength: 1_024, arrayLength: 256 } as const;

type Scalar = number | string | boolean;
export type ItemFeatures = Record<string, Scalar | Scalar[]>;

/** One candidate of a ranked list as the model served it: the item, its score and the position it was shown at (1 = top). */
export interface Candidate {
  item: string;
  score: number;
  position: number;
  features?: ItemFeatures;
}

/** A ranking model's output: the candidates, in the order they were shown. */
export interface RankingSuggestion {
  candidates: Candidate[];
}

const isScalar = (v: unknown): v is Scalar =>
  isFiniteNumber(v) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= ITEM_FEATURE_LIMITS.stringLength);

function checkFeatures(raw: unknown): Checked<ItemFeatures> {
  if (!isObject(raw)) return fail('an object of features by name');
  const keys = Object.keys(raw);
  if (keys.length > ITEM_FEATURE_LIMITS.features) return fail(`at most ${ITEM_FEATURE_LIMITS.features} features`);
  for (const key of keys) {
    if (key.length === 0 || key.length > ITEM_FEATURE_LIMITS.keyLength) return fail(`feature names have 1 to ${ITEM_FEATURE_LIMITS.keyLength} characters`, key);
    const v = raw[key];
    if (!(isScalar(v) || (Array.isArray(v) && v.length <= ITEM_FEATURE_LIMITS.arrayLength && v.every(isScalar))))
      return fail(
        `a number, a string of at most ${ITEM_FEATURE_LIMITS.stringLength} characters, a boolean, or an array of at most ${ITEM_FEATURE_LIMITS.arrayLength} of them`,
        key,
      );
  }
  return ok(raw as ItemFeatures);
}

const gradeIndex = (question: RankingQuestion, grade: number) => question.grades.findIndex((g) => g.value === grade);

/** The item ids answered, in the order answers keep them (code-unit order, the same as bytes for ASCII). */
export const byItem = (a: GradedItem, b: GradedItem) => (a.item < b.item ? -1 : a.item > b.item ? 1 : 0);

/** Softmax of the top k scores (by score, highest first) at the question's temperature. */
export function topProbabilities(question: RankingQuestion, candidates: readonly Candidate[]): number[] {
  const top = candidates
    .map((c) => c.score)
    .sort((a, b) => b - a)
    .slice(0, question.k);
  if (top.length === 0) return [];
  const exps = top.map((s) => Math.exp((s - top[0]) / question.temperature));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The lowest grade that counts as relevant: `relevantFrom`, or the scale's second grade. */
export const relevantGrade = (question: RankingQuestion) => question.relevantFrom ?? question.grades[1].value;

export const rankingKind: QuestionKind<RankingQuestion, RankingSuggestion, GradedItem[]> = {
  kind: 'ranking',
  settings: RankingQuestion,
  /**
   * `{candidates: [{item, score, position?, features?}]}`: at most `maxItems`, each item once,
   * positions (1 = the top) all given or none (then the listed order), a permutation of 1…n.
   * Kept in the order shown.
   */
  suggestion(question, raw) {
    if (!isObject(raw)) return fail('expected an object: {"candidates": [{"item", "score", "position"?, "features"?}]}');
    for (const key of Object.keys(raw)) if (key !== 'candidates') return fail(`unknown key "${key}"`, key);
    const list = raw.candidates;
    if (!Array.isArray(list) || list.length === 0) return fail('a non-empty list of candidates', 'candidates');
    if (list.length > question.maxItems) return fail(`at most ${question.maxItems} candidates (the question's maxItems)`, 'candidates');
    const seen = new Map<string, number>();
    const positions = new Map<number, number>();
    const candidates: Candidate[] = [];
    const positioned = list.some((c) => isObject(c) && c.position !== undefined);
    for (let i = 0; i < list.length; i++) {
      const c: unknown = list[i];
      if (!isObject(c)) return fail('a candidate: {"item", "score", "position"?, "features"?}', 'candidates', i);
      for (const key of Object.keys(c)) if (!['item', 'score', 'position', 'features'].includes(key)) return fail(`unknown key "${key}"`, 'candidates', i, key);
      if (typeof c.item !== 'string' || !ITEM_ID.test(c.item)) return fail(`an item id: ${ITEM_ID_RULE}`, 'candidates', i, 'item');
      const twin = seen.get(c.item);
      if (twin !== undefined) return fail(`item "${c.item}" is listed twice (also candidate ${twin})`, 'candidates', i, 'item');
      seen.set(c.item, i);
      if (!isFiniteNumber(c.score)) return fail('a finite number', 'candidates', i, 'score');
      let position = i + 1;
      if (positioned) {
        if (!Number.isSafeInteger(c.position) || (c.position as number) < 1 || (c.position as number) > list.length)
          return fail(
            `a position from 1 to ${list.length}: the positions are a permutation of 1…${list.length}, given for every candidate or none`,
            'candidates',
            i,
            'position',
          );
        position = c.position as number;
        const other = positions.get(position);
        if (other !== undefined) return fail(`position ${position} is given twice (also candidate ${other})`, 'candidates', i, 'position');
        positions.set(position, i);
      }
      const candidate: Candidate = { item: c.item, score: c.score, position };
      if (c.features !== undefined) {
        const features = checkFeatures(c.features);
        if (!features.ok) return fail(features.issue.message, 'candidates', i, 'features', ...features.issue.path);
        candidate.features = features.value;
      }
      candidates.push(candidate);
    }
    return ok({ candidates: candidates.sort((a, b) => a.position - b.position) });
  },
  /**
   * The scores of the top k candidates read as logits (softmax at the question's temperature):
   * least confidence 1 − p₁, margin 1 − (p₁ − p₂) (a close call at the top), entropy (and
   * max_entropy) the normalised entropy of the top k. One candidate: certain.
   */
  uncertainty(question, s, strategy) {
    const p = topProbabilities(question, s.candidates);
    if (p.length < 2) return 0;
    if (strategy === 'least_confidence') return leastConfidence(p);
    if (strategy === 'margin') return margin(p);
    return entropy(p);
  },
  /** p₁ − p₂ of the top k's softmax: how clearly the model put its first candidate first. */
  confidence(question, s) {
    const p = topProbabilities(question, s.candidates);
    return p.length < 2 ? 1 : p[0] - p[1];
  },
  /** A model's order grades nothing: there is no predicted answer to compare a rater's with. */
  predicted() {
    return undefined;
  },
  /** `[{item, grade}]`: items each once, every grade one of the scale's; kept in item id order. */
  answer(question, raw) {
    if (!Array.isArray(raw)) return fail('a list of grades: [{"item", "grade"}], one per candidate');
    if (raw.length > question.maxItems) return fail(`at most ${question.maxItems} items`);
    const seen = new Set<string>();
    const graded: GradedItem[] = [];
    for (let i = 0; i < raw.length; i++) {
      const g: unknown = raw[i];
      if (!isObject(g)) return fail('a grade: {"item", "grade"}', i);
      for (const key of Object.keys(g)) if (key !== 'item' && key !== 'grade') return fail(`unknown key "${key}"`, i, key);
      if (typeof g.item !== 'string' || !ITEM_ID.test(g.item)) return fail(`an item id: ${ITEM_ID_RULE}`, i, 'item');
      if (seen.has(g.item)) return fail(`item "${g.item}" is graded twice`, i, 'item');
      seen.add(g.item);
      if (typeof g.grade !== 'number' || gradeIndex(question, g.grade) < 0)
        return fail(`one of the grades: ${question.grades.map((p) => `${p.value} (${p.name})`).join(', ')}`, i, 'grade');
      graded.push({ item: g.item, grade: g.grade });
    }
    return ok(graded.sort(byItem));
  },
  /**
   * Per item, the (lower) median grade; raters agree on an item as far as their grades lie within
   * `maxSpread` grades of it, and on the list as far as on its least agreed item. An item most
   * raters did not grade is left out.
   */
  consensus(question, answers, threshold) {
    const m = answers.length;
    if (m === 0) return { decided: false, agreement: 0 };
    const grades = new Map<string, number[]>();
    for (const answer of answers)
      for (const { item, grade } of answer) {
        const list = grades.get(item);
        if (list) list.push(grade);
        else grades.set(item, [grade]);
      }
    let agreement = 1;
    const value: GradedItem[] = [];
    for (const [item, given] of grades) {
      if (2 * given.length <= m) continue;
      const median = lowerMedian(given);
      const at = gradeIndex(question, median);
      const near = given.filter((g) => Math.abs(gradeIndex(question, g) - at) <= question.maxSpread).length;
      agreement = Math.min(agreement, near / given.length);
      value.push({ item, grade: median });
    }
    return agreement >= threshold ? { decided: true, value: value.sort(byItem), agreement } : { decided: false, agreement };
  },
  agreement: () => ({ kind: 'alpha', distance: 'ordinal' }),
  /** The graded items and their grades, in item id order (the ranked export formats carry a list per context). */
  columns(question) {
    return [
      { name: `${question.name}_item`, type: 'bytes', list: true, values: (a) => a.map((g) => g.item) },
      { name: `${question.name}_grade`, type: 'int', list: true, values: (a) => a.map((g) => g.grade) },
    ];
  },
};
