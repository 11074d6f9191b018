import { legacyQuestions } from '@backflow/questions';
import { PredictionInput } from '@backflow/contracts';
import { z } from 'zod';
import { parseCommonPrediction, TIMESTAMP_PATTERN, UUID_PATTERN } from './prediction-fast-path';
import type { ProjectLabels, Verdict } from './prediction-validation';

const valid = {
  id: '0f8b1c52-4d2e-4a8e-9c1e-2b7f0d9a6e31',
  model: { name: 'mail-filter', version: '2.3.1' },
  input: { subject: 'Your invoice is ready', links: 3, urgent: false, tokens: ['invoice', 'ready'], weights: [0.5, 1, true] },
  scores: { ham: 0.7, spam: 0.2, eggs: 0.1 },
  slice: { country: 'FR', device: 'mobile' },
  timestamp: '2026-11-26T10:00:00.123Z',
};
const { id: _id, slice: _slice, timestamp: _timestamp, ...minimal } = valid;

const times = (n: number, make: (i: number) => [string, unknown]) => Object.fromEntries(Array.from({ length: n }, (_, i) => make(i)));
const json = (text: string) => JSON.parse(text) as unknown;

// Each is read by the fast path and by zod; where the fast path answers, zod must accept and agree.
const cases: Array<[string, unknown]> = [
  ['a full prediction', valid],
  ['only the required fields', minimal],
  ['an explicit predicted label', { ...valid, predictedLabel: 'spam' }],
  ['a label of 64 characters', { ...valid, predictedLabel: 'l'.repeat(64), scores: { ['l'.repeat(64)]: 1 } }],
  ['a label of 65 characters', { ...valid, scores: { ['l'.repeat(65)]: 1 } }],
  ['an empty predicted label', { ...valid, predictedLabel: '' }],
  ['a numeric predicted label', { ...valid, predictedLabel: 1 }],
  ['model fields to trim', { ...valid, model: { name: '  mail-filter ', version: '\t2.3.1\n' } }],
  ['a model name of spaces only', { ...valid, model: { name: '   ', version: '1' } }],
  ['a model name of 200 characters and padding', { ...valid, model: { name: `${'m'.repeat(200)}    `, version: '1' } }],
  ['a model name of 201 characters', { ...valid, model: { name: 'm'.repeat(201), version: '1' } }],
  ['a model without a version', { ...valid, model: { name: 'm' } }],
  ['a model with an extra key', { ...valid, model: { name: 'm', version: '1', stage: 'prod' } }],
  ['a model as a string', { ...valid, model: 'mail-filter@2' }],
  ['a numeric model version', { ...valid, model: { name: 'm', version: 2 } }],
  ['an extra top-level key', { ...valid, extra: 1 }],
  ['an undefined id', { ...valid, id: undefined }],
  ['an upper-case id', { ...valid, id: valid.id.toUpperCase() }],
  ['the nil id', { ...valid, id: '00000000-0000-0000-0000-000000000000' }],
  ['an id of version 9', { ...valid, id: '0f8b1c52-4d2e-9a8e-9c1e-2b7f0d9a6e31' }],
  ['a numeric id', { ...valid, id: 42 }],
  ['a request id', { ...valid, id: 'req-8f3a/ab:c' }],
  ['an id of 128 characters', { ...valid, id: 'r'.repeat(128) }],
  ['an id of 129 characters', { ...valid, id: 'r'.repeat(129) }],
  ['an empty id', { ...valid, id: '' }],
  ['an id with a space', { ...valid, id: 'req 1' }],
  ['an id with a tab', { ...valid, id: 'req\t1' }],
  ['an id with a backslash', { ...valid, id: 'req\\1' }],
  ['an id beyond ASCII', { ...valid, id: 'req-é' }],
  ['a NaN score', { ...valid, scores: { ham: Number.NaN, spam: 1 } }],
  ['an infinite score', { ...valid, scores: { ham: Number.POSITIVE_INFINITY } }],
  ['a score from 1e309', json(`{"model":{"name":"m","version":"1"},"input":{},"scores":{"ham":1e309}}`)],
  ['a score as a string', { ...valid, scores: { ham: '0.7', spam: 0.3 } }],
  ['a null score', { ...valid, scores: { ham: null, spam: 1 } }],
  ['a negative score (a project rule, not a shape rule)', { ...valid, scores: { ham: -0.5, spam: 1.5 } }],
  ['an unknown label (a project rule, not a shape rule)', { ...valid, scores: { bacon: 1 } }],
  ['no scores', { ...valid, scores: {} }],
  ['scores as an array', { ...valid, scores: [0.7, 0.3] }],
  ['a score under an empty label', { ...valid, scores: { '': 1 } }],
  ['a NaN feature', { ...valid, input: { x: Number.NaN } }],
  ['an infinite feature', { ...valid, input: { x: Number.NEGATIVE_INFINITY } }],
  ['negative zero', { ...valid, input: { x: -0 } }],
  ['a null feature', { ...valid, input: { x: null } }],
  ['a nested array feature', { ...valid, input: { x: [[1, 2]] } }],
  ['an array feature holding an array', { ...valid, input: { x: [1, [2]] } }],
  ['an array feature holding an object', { ...valid, input: { x: [{ a: 1 }] } }],
  ['an array feature holding null', { ...valid, input: { x: [null] } }],
  ['an object feature', { ...valid, input: { nested: { deep: 1 } } }],
  ['an empty array feature', { ...valid, input: { x: [] } }],
  ['input as an array', { ...valid, input: [1, 2] }],
  ['input as null', { ...valid, input: null }],
  ['a feature under an empty key', { ...valid, input: { '': 1 } }],
  ['a feature key of 128 characters', { ...valid, input: { ['k'.repeat(128)]: 1 } }],
  ['a feature key of 129 characters', { ...valid, input: { ['k'.repeat(129)]: 1 } }],
  ['a string feature of 65,536 characters', { ...valid, input: { text: 'x'.repeat(65_536) } }],
  ['a string feature of 65,537 characters', { ...valid, input: { text: 'x'.repeat(65_537) } }],
  ['an array feature of 4,096 items', { ...valid, input: { x: Array.from({ length: 4096 }, (_, i) => i) } }],
  ['an array feature of 4,097 items', { ...valid, input: { x: Array.from({ length: 4097 }, (_, i) => i) } }],
  ['512 features', { ...valid, input: times(512, (i) => [`f${i}`, i]) }],
  ['513 features', { ...valid, input: times(513, (i) => [`f${i}`, i]) }],
  ['a numeric slice value', { ...valid, slice: { country: 3 } }],
  ['a slice value of 256 characters', { ...valid, slice: { country: 'c'.repeat(256) } }],
  ['a slice value of 257 characters', { ...valid, slice: { country: 'c'.repeat(257) } }],
  ['32 slice keys', { ...valid, slice: times(32, (i) => [`s${i}`, 'v']) }],
  ['33 slice keys', { ...valid, slice: times(33, (i) => [`s${i}`, 'v']) }],
  ['slice as an array', { ...valid, slice: ['FR'] }],
  ['a timestamp with an offset', { ...valid, timestamp: '2026-11-26T10:00:00+02:00' }],
  ['a timestamp with nanoseconds', { ...valid, timestamp: '2026-11-26T10:00:00.123456789Z' }],
  ['a timestamp without an offset', { ...valid, timestamp: '2026-11-26T10:00:00' }],
  ['a timestamp on 30 February', { ...valid, timestamp: '2026-02-30T10:00:00Z' }],
  ['a timestamp in words', { ...valid, timestamp: 'yesterday' }],
  ['a timestamp in milliseconds', { ...valid, timestamp: 1_764_151_200_000 }],
  ['a timestamp in the year 0', { ...valid, timestamp: '0000-01-01T00:00:00Z' }],
  ['a timestamp in the year 1 that is the year 0 in UTC', { ...valid, timestamp: '0001-01-01T00:30:00+01:00' }],
  ['a timestamp in the year 9999 that is 10000 in UTC', { ...valid, timestamp: '9999-12-31T23:30:00-01:00' }],
  ['a timestamp on the first day of the year 1', { ...valid, timestamp: '0001-01-01T00:00:00Z' }],
  ['metadata', { ...valid, metadata: { trace: 'abc', nested: { list: [1, { a: null }] } } }],
  ['metadata of 16,384 bytes', { ...valid, metadata: { pad: 'x'.repeat(16_384 - 10) } }],
  ['metadata over 16,384 bytes', { ...valid, metadata: { pad: 'x'.repeat(16_384 - 9) } }],
  ['metadata as null', { ...valid, metadata: null }],
  ['metadata as an array', { ...valid, metadata: [1] }],
  ['a __proto__ key at the top', json(`{"__proto__":{},"model":{"name":"m","version":"1"},"input":{},"scores":{"ham":1}}`)],
  ['a __proto__ key in scores', json(`{"model":{"name":"m","version":"1"},"input":{},"scores":{"ham":1,"__proto__":0}}`)],
  ['a __proto__ key in input', json(`{"model":{"name":"m","version":"1"},"input":{"__proto__":1},"scores":{"ham":1}}`)],
  ['a __proto__ key in metadata', json(`{"model":{"name":"m","version":"1"},"input":{},"scores":{"ham":1},"metadata":{"__proto__":1}}`)],
  ['a prediction without a prototype', Object.assign(Object.create(null), valid)],
  ['a Date as input', { ...valid, input: new Date(0) }],
  ['an array', [valid]],
  ['null', null],
  ['a string', 'prediction'],
];

describe('parseCommonPrediction', () => {
  it.each(cases)('agrees with the contract on %s', (_name, raw) => {
    const fast = parseCommonPrediction(raw);
    const contract = PredictionInput.safeParse(raw);
    if (fast === undefined) return;
    expect(contract.success).toBe(true);
    const data = contract.data!;
    // what is stored: the same values, and the same JSON text (key order included)
    expect({
      ...fast,
      input: JSON.stringify(fast.input),
      scores: JSON.stringify(fast.scores),
      slice: JSON.stringify(fast.slice),
      metadata: JSON.stringify(fast.metadata),
    }).toEqual({
      ...data,
      input: JSON.stringify(data.input),
      scores: JSON.stringify(data.scores),
      slice: JSON.stringify(data.slice),
      metadata: JSON.stringify(data.metadata),
    });
  });

  it.each([
    ['a full prediction', valid],
    ['only the required fields', minimal],
    ['metadata', { ...valid, metadata: { trace: 'abc' } }],
    ['model fields to trim', { ...valid, model: { name: ' m ', version: '1 ' } }],
    ['a prediction parsed from JSON', json(JSON.stringify(valid))],
  ])('answers for the common case: %s', (_name, raw) => {
    expect(parseCommonPrediction(raw)).toBeDefined();
  });

  it("tests timestamps with the contract's own pattern, and UUIDs with zod's", () => {
    // zod keeps a string format's pattern in its definition; if that moves, this test says so
    const patternOf = (schema: unknown) => (schema as { unwrap(): { _zod: { def: { pattern: RegExp } } } }).unwrap()._zod.def.pattern;
    expect(UUID_PATTERN).toEqual(patternOf(z.guid().optional()));
    expect(TIMESTAMP_PATTERN).toEqual(patternOf(PredictionInput.shape.timestamp));
  });

  it('trims the model fields as the contract does', () => {
    expect(parseCommonPrediction({ ...valid, model: { name: ' m ', version: '\t1\n' } })?.model).toEqual({ name: 'm', version: '1' });
  });
});

describe('validatePrediction with and without the fast path', () => {
  const questions = legacyQuestions([{ name: 'ham' }, { name: 'spam' }, { name: 'eggs' }]);
  const project: ProjectLabels = { projectId: '0f8d5c1e-3b2a-4c6d-9e7f-1a2b3c4d5e6f', labels: ['ham', 'spam', 'eggs'], questions, routing: questions[0] };
  const newId = () => '00000000-0000-4000-8000-000000000000';
  const now = new Date('2026-11-26T10:00:00Z');

  function validators(): {
    fast: typeof import('./prediction-validation').validatePrediction;
    zodOnly: typeof import('./prediction-validation').validatePrediction;
  } {
    let fast!: typeof import('./prediction-validation').validatePrediction;
    let zodOnly!: typeof import('./prediction-validation').validatePrediction;
    jest.isolateModules(() => {
      fast = jest.requireActual<typeof import('./prediction-validation')>('./prediction-validation').validatePrediction;
    });
    jest.isolateModules(() => {
      jest.doMock('./prediction-fast-path', () => ({ parseCommonPrediction: () => undefined }));
      zodOnly = jest.requireActual<typeof import('./prediction-validation')>('./prediction-validation').validatePrediction;
    });
    return { fast, zodOnly };
  }
  const { fast, zodOnly } = validators();

  const verdicts: Array<[string, unknown]> = [
    ...cases,
    ['scores that do not sum to 1', { ...valid, scores: { ham: 0.9, spam: 0.9 } }],
    ['an unknown predicted label', { ...valid, predictedLabel: 'bacon' }],
    ['a timestamp far ahead', { ...valid, timestamp: '2999-01-01T00:00:00Z' }],
    ['scores summing to 1 within tolerance', { ...valid, scores: { ham: 0.3333, spam: 0.3333, eggs: 0.3333 } }],
  ];

  it.each(verdicts)('gives the same verdict on %s', (_name, raw) => {
    const expected: Verdict = zodOnly(raw, project, newId, now);
    expect(fast(raw, project, newId, now)).toEqual(expected);
  });
});
