import { instancesOf, outcomesOf, predictionIdOf, predictionsOfPair, scoresOf } from './kserve-payload';
import { uuidV5 } from './uuid-v5';

const classes = ['ham', 'spam'];
const settings = { rename: {}, pairWindowMinutes: 15 };

describe('uuidV5', () => {
  it('matches the RFC example (www.example.com in the DNS namespace)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
  it('gives each event instance its own stable id', () => {
    expect(predictionIdOf('evt-1', 0)).toBe(predictionIdOf('evt-1', 0));
    expect(new Set([predictionIdOf('evt-1', 0), predictionIdOf('evt-1', 1), predictionIdOf('evt-2', 0)]).size).toBe(3);
  });
});

describe('instancesOf', () => {
  it.each([
    ['V1 list instances, unnamed', { instances: [[1, 2]] }, {}, [{ f0: 1, f1: 2 }]],
    ['V1 list instances, named by position', { instances: [[1, 2, 3]] }, { features: ['a', 'b'] }, [{ a: 1, b: 2, f2: 3 }]],
    ['V1 dict instances, renamed', { instances: [{ x: 1, y: 'b' }] }, { rename: { x: 'links' } }, [{ links: 1, y: 'b' }]],
    ['V1 scalar instances', { instances: ['some text', 'more'] }, { features: ['text'] }, [{ text: 'some text' }, { text: 'more' }]],
    ['V2 tensors, flat and nested', { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data: [[1, 2], [3, 4]] }, { name: 'c', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] }, {}, [{ x_0: 1, x_1: 2, c: 'a' }, { x_0: 3, x_1: 4, c: 'b' }]],
    ['V2 tensors named by position', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, { features: ['a', 'b', 'c'] }, [{ a: 1, b: 2, c: 3 }]],
  ])('%s', (_name, body, extra, expected) => {
    expect(instancesOf(body, { ...settings, ...extra })).toEqual(expected);
  });

  it.each([
    ['not an object', [1, 2], 'interop/invalid_payload', 'request'],
    ['neither V1 nor V2', { data: [] }, 'interop/invalid_payload', 'request'],
    ['a V2 tensor without a shape', { inputs: [{ name: 'x', data: [1] }] }, 'interop/invalid_payload', 'inputs.0.shape'],
    ['a V2 shape and data that disagree', { inputs: [{ name: 'x', shape: [2], data: [1] }] }, 'interop/shape_mismatch', 'inputs.0.data'],
    ['a V2 tensor whose rows hold no values (a shape alone asking for a billion instances)', { inputs: [{ name: 'x', shape: [1_000_000_000, 0], data: [] }] }, 'interop/shape_mismatch', 'inputs.0.shape'],
    ['V2 inputs of different batch sizes', { inputs: [{ name: 'x', shape: [2], data: [1, 2] }, { name: 'y', shape: [1], data: [1] }] }, 'interop/shape_mismatch', 'inputs.1.shape'],
  ])('refuses %s', (_name, body, code, field) => {
    expect(() => instancesOf(body, settings)).toThrow(expect.objectContaining({ code, field }));
  });
});

describe('outcomesOf and scoresOf', () => {
  it.each([
    ['V1 probabilities', { predictions: [[0.2, 0.8]] }, { ham: 0.2, spam: 0.8 }],
    ['V1 class index', { predictions: [1] }, { ham: 0, spam: 1 }],
    ['V1 class name', { predictions: ['ham'] }, { ham: 1, spam: 0 }],
    ['V1 single probability of a binary model', { predictions: [0.3] }, { ham: 0.7, spam: 0.3 }],
    ['V1 dict of scores', { predictions: [{ ham: 0.4, spam: 0.6 }] }, { ham: 0.4, spam: 0.6 }],
    ['V2 probabilities', { outputs: [{ name: 'p', shape: [1, 2], datatype: 'FP32', data: [0.1, 0.9] }] }, { ham: 0.1, spam: 0.9 }],
    ['V2 class index', { outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [0] }] }, { ham: 1, spam: 0 }],
    ['V2, the output as wide as the classes first', { outputs: [{ name: 'label', shape: [1], datatype: 'INT64', data: [0] }, { name: 'p', shape: [1, 2], datatype: 'FP32', data: [0.3, 0.7] }] }, { ham: 0.3, spam: 0.7 }],
  ])('%s', (_name, body, expected) => {
    const { outcomes } = outcomesOf(body, classes);
    expect(scoresOf(outcomes[0], classes, 'predictions.0')).toEqual(expected);
  });

  it('refuses a V2 output whose rows hold no values', () => {
    expect(() => outcomesOf({ outputs: [{ name: 'p', shape: [4_294_967_296, 0], data: [] }] }, classes)).toThrow(expect.objectContaining({ code: 'interop/shape_mismatch', field: 'outputs.0.shape' }));
  });

  it('refuses a class the project does not have, naming the prediction', () => {
    const { outcomes } = outcomesOf({ predictions: [7] }, classes);
    expect(() => scoresOf(outcomes[0], classes, 'predictions.0')).toThrow(expect.objectContaining({ code: 'interop/unknown_class', field: 'predictions.0' }));
    expect(() => outcomesOf({ predictions: [[0.1, 0.2, 0.7]] }, classes)).toThrow(expect.objectContaining({ code: 'interop/shape_mismatch', field: 'predictions.0' }));
  });
});

describe('predictionsOfPair', () => {
  const half = (type: string, body: unknown, extra: Record<string, string> = {}) => ({ attributes: { id: 'evt-9', type: `org.kubeflow.serving.inference.${type}`, ...extra }, body });
  it('makes one prediction per instance in the ingestion API shape', () => {
    const made = predictionsOfPair(
      half('request', { instances: [[1], [2]] }, { inferenceservicename: 'isvc', endpoint: 'canary', time: '2026-11-26T10:00:00Z' }),
      half('response', { predictions: [[0.9, 0.1], [0.4, 0.6]] }),
      { ...settings, features: ['x'] },
      classes,
    ) as Array<Record<string, unknown>>;
    expect(made).toHaveLength(2);
    expect(made[1]).toMatchObject({ id: predictionIdOf('evt-9', 1), model: { name: 'isvc', version: 'canary' }, input: { x: 2 }, scores: { ham: 0.4, spam: 0.6 }, slice: { endpoint: 'canary' }, timestamp: '2026-11-26T10:00:00.000Z' });
  });
  it('takes the V2 model version, and the configured classes', () => {
    const [made] = predictionsOfPair(half('request', { inputs: [{ name: 'x', shape: [1], data: [1] }] }), half('response', { model_version: '3', outputs: [{ name: 'o', shape: [1], data: ['b'] }] }), { ...settings, classes: ['a', 'b'] }, classes) as Array<Record<string, unknown>>;
    expect(made).toMatchObject({ model: { name: 'kserve', version: '3' }, scores: { a: 0, b: 1 } });
  });
  it.each([['a year PostgreSQL cannot store', '-200000-01-01T00:00:00Z'], ['no date', 'soon']])('leaves out a ce-time of %s (the prediction is stamped on arrival)', (_name, time) => {
    const [made] = predictionsOfPair(half('request', { instances: [[1]] }, { time }), half('response', { predictions: [[0.5, 0.5]] }), settings, classes) as Array<Record<string, unknown>>;
    expect(made).not.toHaveProperty('timestamp');
  });
  it('refuses a response that does not answer every instance', () => {
    expect(() => predictionsOfPair(half('request', { instances: [[1], [2]] }), half('response', { predictions: [[0.5, 0.5]] }), settings, classes)).toThrow(expect.objectContaining({ code: 'interop/shape_mismatch', field: 'response' }));
  });
});
