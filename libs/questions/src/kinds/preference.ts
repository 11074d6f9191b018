import { majorityVote } from '@backflow/agreement';
import { PreferenceQuestion, type PreferenceAnswer } from '../definitions';
import { fail, ok, type QuestionKind } from '../kind';
import { isObject } from '../shared';

export const PREFERENCES = ['first', 'second', 'tie', 'both_bad'] as const;
const SIDES = ['first', 'second'] as const;

/**
 * Which response a task shows on the left: drawn once per task from its id (FNV-1a, so the server,
 * the rater's page and the export agree without storing it), each side about half the time.
 */
export function leftOf(taskId: string): 'first' | 'second' {
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 2 === 0 ? 'first' : 'second';
}

const keyOf = (a: PreferenceAnswer) => `${a.preferred}|${a.left}`;

export const preferenceKind: QuestionKind<PreferenceQuestion, never, PreferenceAnswer> = {
  kind: 'preference',
  settings: PreferenceQuestion,
  suggestion: () => fail('a preference is the raters’: the model suggests nothing for it'),
  uncertainty: () => 0,
  confidence: () => 1,
  predicted: () => undefined,
  /** `{"preferred": "first"|"second"|"tie"|"both_bad", "left": "first"|"second"}`: the better response, and the one shown on the left. */
  answer(_question, raw) {
    if (!isObject(raw)) return fail('expected {"preferred": "first"|"second"|"tie"|"both_bad", "left": "first"|"second"}');
    for (const key of Object.keys(raw)) if (key !== 'preferred' && key !== 'left') return fail(`unknown key "${key}"`, key);
    if (!PREFERENCES.includes(raw.preferred as PreferenceAnswer['preferred'])) return fail(`one of ${PREFERENCES.join(', ')}`, 'preferred');
    if (!SIDES.includes(raw.left as PreferenceAnswer['left'])) return fail('first or second: the response shown on the left', 'left');
    return ok({ preferred: raw.preferred as PreferenceAnswer['preferred'], left: raw.left as PreferenceAnswer['left'] });
  },
  /** The most given preference (with the side its raters saw: one task shows one order), untied, with its share. */
  consensus(_question, answers, threshold) {
    const { label, share } = majorityVote(answers.map(keyOf));
    if (label === undefined || share < threshold) return { decided: false, agreement: share };
    const [preferred, left] = label.split('|') as [PreferenceAnswer['preferred'], PreferenceAnswer['left']];
    return { decided: true, value: { preferred, left }, agreement: share };
  },
  agreement: () => ({ kind: 'alpha', distance: 'nominal' }),
  columns(question) {
    return [
      { name: question.name, type: 'bytes', list: false, values: (a) => [a.preferred] },
      { name: `${question.name}_left`, type: 'bytes', list: false, values: (a) => [a.left] },
    ];
  },
};
