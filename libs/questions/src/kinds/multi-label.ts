import { MultiLabelQuestion } from '../definitions';
import { fail, ok, type QuestionKind } from '../kind';
import { binaryEntropy, isObject } from '../shared';
import { checkScores } from './label';

/** A multi-label model's output: an independent probability per label, or the labels it chose. */
export interface MultiLabelSuggestion {
  scores?: Record<string, number>;
  value?: string[];
}

/** A label is predicted when its probability is at least this. */
export const MULTI_LABEL_CUTOFF = 0.5;

/** Labels in the question's order, each once. */
export const inLabelOrder = (question: MultiLabelQuestion, chosen: Iterable<string>) => {
  const set = new Set(chosen);
  return question.labels.map((l) => l.name).filter((name) => set.has(name));
};

export const multiLabelKind: QuestionKind<MultiLabelQuestion, MultiLabelSuggestion, string[]> = {
  kind: 'multi_label',
  settings: MultiLabelQuestion,
  suggestion(question, raw) {
    if (!isObject(raw)) return fail('expected an object: {"scores": {…}} (one probability per label) or {"value": [labels]}');
    for (const key of Object.keys(raw)) if (key !== 'scores' && key !== 'value') return fail(`unknown key "${key}"`, key);
    const out: MultiLabelSuggestion = {};
    if (raw.scores !== undefined) {
      const scores = checkScores(question.labels, raw.scores, false);
      if (!scores.ok) return fail(scores.issue.message, 'scores', ...scores.issue.path);
      out.scores = scores.value;
    }
    if (raw.value !== undefined) {
      const value = multiLabelKind.answer(question, raw.value);
      if (!value.ok) return fail(value.issue.message, 'value', ...value.issue.path);
      out.value = value.value;
    }
    if (!out.scores && !out.value) return fail('scores or value is needed');
    return ok(out);
  },
  /**
   * Per-label binary entropy in bits: `entropy` is its mean over the labels scored, `max_entropy`
   * its largest; least confidence and margin both read the label closest to ½ (1 − |2p − 1|).
   */
  uncertainty(_question, s, strategy) {
    const ps = Object.values(s.scores ?? {});
    if (ps.length === 0) return 0;
    if (strategy === 'entropy') return ps.reduce((sum, p) => sum + binaryEntropy(p), 0) / ps.length;
    if (strategy === 'max_entropy') return Math.max(...ps.map(binaryEntropy));
    return Math.max(...ps.map((p) => 1 - Math.abs(2 * p - 1)));
  },
  confidence(_question, s) {
    const ps = Object.values(s.scores ?? {});
    return ps.length === 0 ? 1 : ps.reduce((sum, p) => sum + Math.max(p, 1 - p), 0) / ps.length;
  },
  predicted(question, s) {
    if (s.value) return s.value;
    return inLabelOrder(
      question,
      Object.entries(s.scores ?? {})
        .filter(([, p]) => p >= MULTI_LABEL_CUTOFF)
        .map(([label]) => label),
    );
  },
  answer(question, raw) {
    if (!Array.isArray(raw)) return fail("a list of the question's labels (empty when none applies)");
    const known = new Set(question.labels.map((l) => l.name));
    const seen = new Set<string>();
    for (let i = 0; i < raw.length; i++) {
      const label: unknown = raw[i];
      if (typeof label !== 'string' || !known.has(label)) return fail(`${JSON.stringify(label)} is not one of the question's labels`, i);
      if (seen.has(label)) return fail(`"${label}" is listed twice`, i);
      seen.add(label);
    }
    return ok(inLabelOrder(question, seen));
  },
  /**
   * Per label, a majority of the raters includes it or leaves it out; a label on which they split
   * evenly has no majority. The agreement is the smallest per-label majority share.
   */
  consensus(question, answers, threshold) {
    const n = answers.length;
    if (n === 0) return { decided: false, agreement: 0 };
    let agreement = 1;
    let tied = false;
    const chosen: string[] = [];
    for (const { name } of question.labels) {
      const c = answers.filter((a) => a.includes(name)).length;
      if (2 * c === n) tied = true;
      if (2 * c > n) chosen.push(name);
      agreement = Math.min(agreement, Math.max(c, n - c) / n);
    }
    return !tied && agreement >= threshold ? { decided: true, value: chosen, agreement } : { decided: false, agreement };
  },
  agreement: () => ({ kind: 'alpha', distance: 'masi' }),
  columns(question) {
    const names = question.labels.map((l) => l.name);
    return [
      {
        name: question.name,
        type: 'int',
        list: true,
        domain: { min: 0, max: names.length - 1 },
        values: (a) => a.map((label) => names.indexOf(label)).sort((x, y) => x - y),
      },
      { name: `${question.name}_multi_hot`, type: 'int', list: true, values: (a) => names.map((name) => (a.includes(name) ? 1 : 0)) },
    ];
  },
};
