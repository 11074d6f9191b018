import { Question } from '@backflow/questions';
import { checkReadable, numberOutcomesOf, predictionsOfPair, responseOutputsOf } from './kserve-payload';

const settings = { rename: {}, pairWindowMinutes: 15 };
const topics = Question.parse({ name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] });
const price = Question.parse({ name: 'price', kind: 'numeric', min: 0 });
const quality = Question.parse({ name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) });
const labels = ['sports', 'politics', 'tech'];

const half = (type: string, body: unknown) => ({ attributes: { id: 'evt-3', type: `org.kubeflow.serving.inference.${type}` }, body });
const request = half('request', { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] });

describe('a multi-label model: one independent probability per label', () => {
  it('reads the V2 output named after the routing question before the first as wide as the labels', () => {
    const response = half('response', {
      outputs: [
        { name: 'logits', shape: [2, 3], datatype: 'FP32', data: [9, 9, 9, 9, 9, 9] },
        { name: 'topics', shape: [2, 3], datatype: 'FP32', data: [0.9, 0.1, 0.7, 0.2, 0.6, 0.5] },
      ],
    });
    const made = predictionsOfPair(request, response, settings, labels, topics) as Array<Record<string, unknown>>;
    expect(made.map((p) => p.scores)).toEqual([
      { sports: 0.9, politics: 0.1, tech: 0.7 },
      { sports: 0.2, politics: 0.6, tech: 0.5 },
    ]);
    expect(made[0]).not.toHaveProperty('suggestions');
  });

  it('reads a configured output, a multi-hot integer tensor, and V1 vectors', () => {
    const multiHot = half('response', { outputs: [{ name: 'tags', shape: [2, 3], datatype: 'INT64', data: [1, 0, 1, 0, 0, 0] }] });
    expect((predictionsOfPair(request, multiHot, { ...settings, output: 'tags' }, labels, topics) as Array<Record<string, unknown>>)[0].scores).toEqual({
      sports: 1,
      politics: 0,
      tech: 1,
    });
    const v1 = half('response', { predictions: [[0.3, 0.3, 0.9]] });
    expect((predictionsOfPair(half('request', { instances: [['x']] }), v1, settings, labels, topics) as Array<Record<string, unknown>>)[0].scores).toEqual({
      sports: 0.3,
      politics: 0.3,
      tech: 0.9,
    });
  });

  it('refuses an output as wide as neither one label nor all of them', () => {
    expect(() => responseOutputsOf({ outputs: [{ name: 'topics', shape: [1, 2], data: [0.1, 0.2] }] }, settings, labels, topics)).toThrow(
      expect.objectContaining({ code: 'interop/shape_mismatch', field: 'outputs.0.shape' }),
    );
  });
});

describe('a number model: a value, with its standard deviation or interval when sent', () => {
  it('reads the output named after the question with <name>_std and <name>_interval beside it', () => {
    const response = half('response', {
      model_version: '4',
      outputs: [
        { name: 'price_interval', shape: [2, 2], datatype: 'FP32', data: [10, 14, 90, 130] },
        { name: 'price_std', shape: [2, 1], datatype: 'FP32', data: [1, 10] },
        { name: 'price', shape: [2, 1], datatype: 'FP32', data: [12.5, 110] },
      ],
    });
    const made = predictionsOfPair(request, response, settings, [], price) as Array<Record<string, unknown>>;
    expect(made.map((p) => p.suggestions)).toEqual([
      { price: { value: 12.5, std: 1, interval: [10, 14] } },
      { price: { value: 110, std: 10, interval: [90, 130] } },
    ]);
    expect(made[0]).toMatchObject({ model: { version: '4' } });
    expect(made[0]).not.toHaveProperty('scores');
  });

  it('takes the first one-value output not named as a spread, and configured names', () => {
    const unnamed = {
      outputs: [
        { name: 'predict_std', shape: [1], data: [2] },
        { name: 'predict', shape: [1], data: [3] },
      ],
    };
    expect(numberOutcomesOf(unnamed, {}, 'quality').outcomes).toEqual([{ value: 3, std: 2 }]);
    const configured = {
      outputs: [
        { name: 'mean', shape: [1], data: [3] },
        { name: 'sigma', shape: [1], data: [0.5] },
        { name: 'q', shape: [1, 2], data: [2, 4] },
      ],
    };
    expect(numberOutcomesOf(configured, { output: 'mean', std: 'sigma', interval: 'q' }, 'quality').outcomes).toEqual([
      { value: 3, std: 0.5, interval: [2, 4] },
    ]);
  });

  it.each([
    ['V1 numbers', { predictions: [4, [2]] }, [{ value: 4 }, { value: 2 }]],
    [
      'V1 objects',
      {
        predictions: [
          { value: 4, std: 0.2 },
          { value: 2, interval: [1, 3] },
        ],
      },
      [
        { value: 4, std: 0.2 },
        { value: 2, interval: [1, 3] },
      ],
    ],
    ['Seldon ndarray rows', { data: { ndarray: [[4], [2]] } }, [{ value: 4 }, { value: 2 }]],
    ['Seldon jsonData V1', { jsonData: { predictions: [4] } }, [{ value: 4 }]],
  ])('reads %s', (_name, body, expected) => {
    expect(numberOutcomesOf(body, {}, 'quality').outcomes).toEqual(expected);
  });

  it.each([
    ['a value output two wide', { outputs: [{ name: 'price', shape: [1, 2], data: [1, 2] }] }, {}, 'interop/shape_mismatch', 'outputs.0.shape'],
    [
      'a std output of another batch size',
      {
        outputs: [
          { name: 'price', shape: [2], data: [1, 2] },
          { name: 'price_std', shape: [1], data: [1] },
        ],
      },
      {},
      'interop/shape_mismatch',
      'outputs.1.shape',
    ],
    [
      'an interval of one value a row',
      {
        outputs: [
          { name: 'price', shape: [1], data: [1] },
          { name: 'price_interval', shape: [1, 1], data: [1] },
        ],
      },
      {},
      'interop/shape_mismatch',
      'outputs.1.shape',
    ],
    [
      'a configured std output that is missing',
      { outputs: [{ name: 'price', shape: [1], data: [1] }] },
      { std: 'sigma' },
      'interop/invalid_payload',
      'outputs',
    ],
    ['a value that is no number', { outputs: [{ name: 'price', shape: [1], data: ['12'] }] }, {}, 'interop/invalid_payload', 'outputs.0.data'],
    ['a V1 class vector', { predictions: [[0.1, 0.9]] }, {}, 'interop/invalid_payload', 'predictions.0'],
  ])('refuses %s, naming the field', (_name, body, extra, code, field) => {
    expect(() => responseOutputsOf(body, { ...settings, ...extra }, [], price)).toThrow(expect.objectContaining({ code, field }));
  });

  it('makes rating suggestions the same way', () => {
    const made = predictionsOfPair(half('request', { instances: [[1]] }), half('response', { predictions: [3.4] }), settings, [], quality) as Array<
      Record<string, unknown>
    >;
    expect(made[0].suggestions).toEqual({ quality: { value: 3.4 } });
  });
});

it('refuses either half for a text or spans routing question: the logger cannot make its prediction', () => {
  expect(() => checkReadable(Question.parse({ name: 'summary', kind: 'text' }))).toThrow(
    expect.objectContaining({ code: 'interop/invalid_payload', field: 'body' }),
  );
  expect(() => checkReadable(topics)).not.toThrow();
});
