import { Question } from '../definitions';
import { generationKind as kind, meanLogprobOf, type GenerationSuggestion } from './generation';

const question = Question.parse({ name: 'reply', kind: 'generation', maxLength: 200, maxResponses: 3, maxMessages: 4 }) as Extract<
  Question,
  { kind: 'generation' }
>;
const check = (raw: unknown) => kind.suggestion(question, raw);
const valid = (raw: unknown) => {
  const checked = check(raw);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issue));
  return checked.value;
};

describe('generation questions', () => {
  it('take a conversation and its responses, refusing what does not fit, naming the field', () => {
    const s = valid({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
      ],
      responses: [
        {
          text: 'Paris.',
          model: { version: 'v2' },
          meanLogprob: -0.1,
          tokens: [{ logprob: -0.1, top: [-0.1, -2.5] }],
          latencyMs: 420,
          usage: { promptTokens: 9, completionTokens: 2 },
        },
      ],
    });
    expect(s.responses[0].text).toBe('Paris.');
    const refused = (raw: unknown) => {
      const checked = check(raw);
      return checked.ok ? undefined : [checked.issue.path.join('.'), checked.issue.message];
    };
    expect(refused({ responses: [] })?.[0]).toBe('responses');
    expect(refused({ responses: [{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }] })).toEqual(['responses', 'at most 3 responses']);
    expect(refused({ responses: [{ text: 'x'.repeat(201) }] })).toEqual(['responses.0.text', 'at most 200 characters']);
    expect(refused({ responses: [{ text: 'a', meanLogprob: 0.5 }] })?.[0]).toBe('responses.0.meanLogprob');
    expect(refused({ responses: [{ text: 'a', tokens: [{ logprob: -1, top: [1] }] }] })?.[0]).toBe('responses.0.tokens.0.top');
    expect(refused({ responses: [{ text: 'a', temperature: 1 }] })).toEqual(['responses.0.temperature', 'unknown key "temperature"']);
    expect(refused({ responses: [{ text: 'a', usage: { completionTokens: -1 } }] })?.[0]).toBe('responses.0.usage.completionTokens');
    expect(refused({ messages: [{ role: 'robot', content: 'hi' }], responses: [{ text: 'a' }] })?.[0]).toBe('messages.0.role');
    expect(refused({ messages: Array(5).fill({ role: 'user', content: 'hi' }), responses: [{ text: 'a' }] })).toEqual(['messages', 'at most 4 messages']);
    expect(refused({ responses: [{ text: 'a', model: { version: '' } }] })?.[0]).toBe('responses.0.model');
    expect(refused('Paris.')?.[0]).toBe('');
  });

  it('reads doubt from log-probabilities, token alternatives and the samples’ disagreement, each strategy falling back to the next signal', () => {
    const sure: GenerationSuggestion = { responses: [{ text: 'Paris.', meanLogprob: Math.log(0.9) }] };
    expect(kind.uncertainty(question, sure, 'least_confidence')).toBeCloseTo(0.1, 12);
    expect(kind.confidence(question, sure)).toBeCloseTo(0.9, 12);
    // the mean of the tokens' log-probabilities when no mean is sent
    expect(meanLogprobOf({ text: 'x', tokens: [{ logprob: Math.log(0.5) }, { logprob: 0 }] })).toBeCloseTo(Math.log(0.5) / 2, 12);
    // entropy: two equally likely alternatives at every token is the most doubt
    const split: GenerationSuggestion = { responses: [{ text: 'a b', tokens: [{ logprob: Math.log(0.5), top: [Math.log(0.5), Math.log(0.5)] }] }] };
    expect(kind.uncertainty(question, split, 'entropy')).toBeCloseTo(1, 12);
    // margin: samples that share 3 of 5 words disagree by 2/5
    const samples: GenerationSuggestion = { responses: [{ text: 'Paris is the capital' }, { text: 'Lyon is the capital' }] };
    expect(kind.uncertainty(question, samples, 'margin')).toBeCloseTo(2 / 5, 12);
    expect(kind.confidence(question, samples)).toBeCloseTo(3 / 5, 12);
    // a strategy without its signal falls back: margin of one response reads its log-probability; nothing at all is certain
    expect(kind.uncertainty(question, sure, 'margin')).toBeCloseTo(0.1, 12);
    expect(kind.uncertainty(question, { responses: [{ text: 'x' }] }, 'entropy')).toBe(0);
    expect(kind.confidence(question, { responses: [{ text: 'x' }] })).toBe(1);
  });

  it('predicts its first response; a rater corrects it; raters agree when their corrections match, ends trimmed', () => {
    expect(kind.predicted(question, { responses: [{ text: 'Paris.' }, { text: 'Lyon.' }] })).toBe('Paris.');
    expect(kind.answer(question, 'Paris, France.')).toEqual({ ok: true, value: 'Paris, France.' });
    expect(kind.answer(question, '  ').ok).toBe(false);
    expect(kind.answer(question, 3).ok).toBe(false);
    expect(kind.consensus(question, ['Paris.', ' Paris.\n'], 0.6)).toEqual({ decided: true, value: 'Paris.', agreement: 1 });
    expect(kind.consensus(question, ['Paris.', 'Lyon.'], 0.6).decided).toBe(false);
    expect(kind.columns(question).map((c) => [c.name, c.type, c.values('Paris.')])).toEqual([['reply', 'bytes', ['Paris.']]]);
  });
});
