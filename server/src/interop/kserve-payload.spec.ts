import { instancesOf, outcomesOf, pairIdOf, predictionIdOf, predictionsOfPair, scoresOf } from './kserve-payload';
import { uuidV5 } from '../common/ids/uuid-v5';

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
    [
      'V2 tensors, flat and nested',
      {
        inputs: [
          {
            name: 'x',
            shape: [2, 2],
            datatype: 'FP32',
            data: [
              [1, 2],
              [3, 4],
            ],
          },
          { name: 'c', shape: [2], datatype: 'BYTES', data: ['a', 'b'] },
        ],
      },
      {},
      [
        { x_0: 1, x_1: 2, c: 'a' },
        { x_0: 3, x_1: 4, c: 'b' },
      ],
    ],
    [
      'V2 tensors named by position',
      { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
      { features: ['a', 'b', 'c'] },
      [{ a: 1, b: 2, c: 3 }],
    ],
  ])('%s', (_name, body, extra, expected) => {
    expect(instancesOf(body, { ...settings, ...extra })).toEqual(expected);
  });

  it.each([
    ['not an object', [1, 2], 'interop/invalid_payload', 'request'],
    ['none of V1, V2 or Seldon', { rows: [] }, 'interop/invalid_payload', 'request'],
    ['a V2 tensor without a shape', { inputs: [{ name: 'x', data: [1] }] }, 'interop/invalid_payload', 'inputs.0.shape'],
    ['a V2 shape and data that disagree', { inputs: [{ name: 'x', shape: [2], data: [1] }] }, 'interop/shape_mismatch', 'inputs.0.data'],
    [
      'a V2 tensor whose rows hold no values (a shape alone asking for a billion instances)',
      { inputs: [{ name: 'x', shape: [1_000_000_000, 0], data: [] }] },
      'interop/shape_mismatch',
      'inputs.0.shape',
    ],
    [
      'V2 inputs of different batch sizes',
      {
        inputs: [
          { name: 'x', shape: [2], data: [1, 2] },
          { name: 'y', shape: [1], data: [1] },
        ],
      },
      'interop/shape_mismatch',
      'inputs.1.shape',
    ],
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
    [
      'V2, the output as wide as the classes first',
      {
        outputs: [
          { name: 'label', shape: [1], datatype: 'INT64', data: [0] },
          { name: 'p', shape: [1, 2], datatype: 'FP32', data: [0.3, 0.7] },
        ],
      },
      { ham: 0.3, spam: 0.7 },
    ],
  ])('%s', (_name, body, expected) => {
    const { outcomes } = outcomesOf(body, classes);
    expect(scoresOf(outcomes[0], classes, 'predictions.0')).toEqual(expected);
  });

  it('refuses a V2 output whose rows hold no values', () => {
    expect(() => outcomesOf({ outputs: [{ name: 'p', shape: [4_294_967_296, 0], data: [] }] }, classes)).toThrow(
      expect.objectContaining({ code: 'interop/shape_mismatch', field: 'outputs.0.shape' }),
    );
  });

  it('refuses a class the project does not have, naming the prediction', () => {
    const { outcomes } = outcomesOf({ predictions: [7] }, classes);
    expect(() => scoresOf(outcomes[0], classes, 'predictions.0')).toThrow(expect.objectContaining({ code: 'interop/unknown_class', field: 'predictions.0' }));
    expect(() => outcomesOf({ predictions: [[0.1, 0.2, 0.7]] }, classes)).toThrow(
      expect.objectContaining({ code: 'interop/shape_mismatch', field: 'predictions.0' }),
    );
  });
});

describe('predictionsOfPair', () => {
  const half = (type: string, body: unknown, extra: Record<string, string> = {}) => ({
    attributes: { id: 'evt-9', type: `org.kubeflow.serving.inference.${type}`, ...extra },
    body,
  });
  it('makes one prediction per instance in the ingestion API shape', () => {
    const made = predictionsOfPair(
      half('request', { instances: [[1], [2]] }, { inferenceservicename: 'isvc', endpoint: 'canary', time: '2026-11-26T10:00:00Z' }),
      half('response', {
        predictions: [
          [0.9, 0.1],
          [0.4, 0.6],
        ],
      }),
      { ...settings, features: ['x'] },
      classes,
    ) as Array<Record<string, unknown>>;
    expect(made).toHaveLength(2);
    expect(made[1]).toMatchObject({
      id: predictionIdOf('evt-9', 1),
      model: { name: 'isvc', version: 'canary' },
      input: { x: 2 },
      scores: { ham: 0.4, spam: 0.6 },
      slice: { endpoint: 'canary' },
      timestamp: '2026-11-26T10:00:00.000Z',
    });
  });
  it('takes the V2 model version, and the configured classes', () => {
    const [made] = predictionsOfPair(
      half('request', { inputs: [{ name: 'x', shape: [1], data: [1] }] }),
      half('response', { model_version: '3', outputs: [{ name: 'o', shape: [1], data: ['b'] }] }),
      { ...settings, classes: ['a', 'b'] },
      classes,
    ) as Array<Record<string, unknown>>;
    expect(made).toMatchObject({ model: { name: 'kserve', version: '3' }, scores: { a: 0, b: 1 } });
  });
  it.each([
    ['a year PostgreSQL cannot store', '-200000-01-01T00:00:00Z'],
    ['no date', 'soon'],
  ])('leaves out a ce-time of %s (the prediction is stamped on arrival)', (_name, time) => {
    const [made] = predictionsOfPair(
      half('request', { instances: [[1]] }, { time }),
      half('response', { predictions: [[0.5, 0.5]] }),
      settings,
      classes,
    ) as Array<Record<string, unknown>>;
    expect(made).not.toHaveProperty('timestamp');
  });
  it('refuses a response that does not answer every instance', () => {
    expect(() => predictionsOfPair(half('request', { instances: [[1], [2]] }), half('response', { predictions: [[0.5, 0.5]] }), settings, classes)).toThrow(
      expect.objectContaining({ code: 'interop/shape_mismatch', field: 'response' }),
    );
  });
});

/**
 * Seldon Core v1's own bodies (the SeldonMessage of its protocol), as its documentation and its
 * request logger write them:
 * - the proto: https://docs.seldon.ai/seldon-core-1/reference/prediction-apis/prediction
 *   (`SeldonMessage { oneof { DefaultData data; bytes binData; string strData; Value jsonData } }`,
 *   `DefaultData { names; oneof { Tensor tensor; ListValue ndarray; TensorProto tftensor } }`)
 * - the external API's example request: https://docs.seldon.io/projects/seldon-core/en/latest/reference/apis/external-prediction.html
 * - the request logger's test payloads, sent with `Ce-Type: io.seldon.serving.inference.request/response`
 *   and a shared `Ce-Requestid`: https://github.com/SeldonIO/seldon-core/blob/master/components/seldon-request-logger/testing/test.sh
 * - a jsonData model's reply: https://github.com/SeldonIO/seldon-core/issues/665
 */
describe('Seldon Core v1 bodies', () => {
  it.each([
    [
      'the external API example: a tensor named by data.names',
      { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } } },
      {},
      [
        { a: 0, b: 0 },
        { a: 1, b: 1 },
      ],
    ],
    [
      'the income classifier: an ndarray row named by data.names',
      {
        data: {
          names: [
            'Age',
            'Workclass',
            'Education',
            'Marital Status',
            'Occupation',
            'Relationship',
            'Race',
            'Sex',
            'Capital Gain',
            'Capital Loss',
            'Hours per week',
            'Country',
          ],
          ndarray: [[53, 4, 0, 2, 8, 4, 2, 0, 0, 0, 60, 9]],
        },
      },
      {},
      [
        {
          Age: 53,
          Workclass: 4,
          Education: 0,
          'Marital Status': 2,
          Occupation: 8,
          Relationship: 4,
          Race: 2,
          Sex: 0,
          'Capital Gain': 0,
          'Capital Loss': 0,
          'Hours per week': 60,
          Country: 9,
        },
      ],
    ],
    ['a batch of strings under one name', { data: { names: ['a'], ndarray: ['test1', 'test2'] } }, {}, [{ a: 'test1' }, { a: 'test2' }]],
    [
      'a movie review',
      { data: { names: ['Text review'], ndarray: ['this film has bad actors'] } },
      { rename: { 'Text review': 'review' } },
      [{ review: 'this film has bad actors' }],
    ],
    ['a tensor of one value per row', { data: { names: ['c'], tensor: { shape: [2, 1], values: [5, 6] } } }, {}, [{ c: 5 }, { c: 6 }]],
    ['an ndarray without names, as V1 lists', { data: { ndarray: [[1.0, 2.0]] } }, { features: ['x'] }, [{ x: 1, f1: 2 }]],
    ['an empty names list, as no names', { data: { names: [], ndarray: [[14, 15]] } }, {}, [{ f0: 14, f1: 15 }]],
    ['strData as one text feature', { strData: 'a whole document' }, {}, [{ text: 'a whole document' }]],
    ['strData named by the first configured feature', { strData: 'x' }, { features: ['body'] }, [{ body: 'x' }]],
    [
      'a jsonData object as one instance of its fields',
      { jsonData: { input: "{'input': '[[53  4  0  2  8  4  2  0  0  0 60  9]]'}" }, meta: {} },
      {},
      [{ input: "{'input': '[[53  4  0  2  8  4  2  0  0  0 60  9]]'}" }],
    ],
    ['a jsonData holding V1 instances', { jsonData: { instances: [{ links: 3, user: { age: 41 } }] } }, {}, [{ links: 3, 'user.age': 41 }]],
    [
      'a jsonData list of instances',
      {
        jsonData: [
          [1, 2],
          [3, 4],
        ],
      },
      {},
      [
        { f0: 1, f1: 2 },
        { f0: 3, f1: 4 },
      ],
    ],
  ])('request: %s', (_name, body, extra, expected) => {
    expect(instancesOf(body, { ...settings, ...extra })).toEqual(expected);
  });

  it.each([
    [
      'the income classifier: probabilities named t:0, t:1 (by position)',
      {
        data: { names: ['t:0', 't:1'], ndarray: [[0.8538818809164035, 0.14611811908359656]] },
        meta: { requestPath: { 'income-container': 'seldonio/sklearnserver:1.7.0' } },
      },
      { ham: 0.8538818809164035, spam: 0.14611811908359656 },
    ],
    ['columns named by the classes, in another order', { data: { names: ['spam', 'ham'], ndarray: [[0.9, 0.1]] } }, { ham: 0.1, spam: 0.9 }],
    [
      "the request logger's one-probability binary model",
      { meta: {}, data: { names: ['proba'], ndarray: [[0.1951846770138402]] } },
      { ham: 1 - 0.1951846770138402, spam: 0.1951846770138402 },
    ],
    ['a tensor of probabilities', { data: { names: ['t:0', 't:1'], tensor: { shape: [1, 2], values: [0.3, 0.7] } } }, { ham: 0.3, spam: 0.7 }],
    ['an ndarray of class indexes', { data: { ndarray: [1] } }, { ham: 0, spam: 1 }],
    ['strData as a class name', { strData: ' spam ' }, { ham: 0, spam: 1 }],
    ['jsonData holding V1 predictions', { jsonData: { predictions: [[0.4, 0.6]] } }, { ham: 0.4, spam: 0.6 }],
    ['jsonData of class probabilities', { jsonData: { ham: 0.25, spam: 0.75 } }, { ham: 0.25, spam: 0.75 }],
    ['jsonData of one class', { jsonData: 'ham' }, { ham: 1, spam: 0 }],
  ])('response: %s', (_name, body, expected) => {
    const { outcomes, at } = outcomesOf(body, classes);
    expect(outcomes).toHaveLength(1);
    expect(scoresOf(outcomes[0], classes, `${at}.0`)).toEqual(expected);
  });

  it.each([
    [
      'a tensor shape asking for 10^15 rows of no values',
      { data: { tensor: { shape: [1e15, 0], values: [] } } },
      'interop/shape_mismatch',
      'data.tensor.shape',
    ],
    [
      'a tensor shape asking for 2^40 × 2^40 values',
      { data: { tensor: { shape: [2 ** 40, 2 ** 40], values: [1] } } },
      'interop/shape_mismatch',
      'data.tensor.values',
    ],
    [
      'a tensor shape and values that disagree',
      { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [1, 2, 3] } } },
      'interop/shape_mismatch',
      'data.tensor.values',
    ],
    ['a tensor of strings', { data: { tensor: { shape: [1], values: ['x'] } } }, 'interop/invalid_payload', 'data.tensor.values.0'],
    [
      'more values in a row than data.names',
      {
        data: {
          names: ['a', 'b'],
          ndarray: [
            [1, 2],
            [3, 4, 5],
          ],
        },
      },
      'interop/shape_mismatch',
      'data.ndarray.1',
    ],
    ['data.names naming a column twice', { data: { names: ['a', 'a'], ndarray: [[1, 2]] } }, 'interop/invalid_payload', 'data.names'],
    ['a data without ndarray or tensor', { data: { names: ['a'] } }, 'interop/invalid_payload', 'data'],
    ['a TensorFlow TensorProto', { data: { tftensor: { dtype: 'DT_FLOAT' } } }, 'interop/invalid_payload', 'data.tftensor'],
    ['binData', { binData: 'AAEC' }, 'interop/invalid_payload', 'binData'],
    ['a strData that is no string', { strData: 7 }, 'interop/invalid_payload', 'strData'],
    ['a null jsonData', { jsonData: null }, 'interop/invalid_payload', 'jsonData'],
    ['more than 10,000 ndarray rows', { data: { ndarray: Array.from({ length: 10_001 }, () => [1]) } }, 'interop/invalid_payload', 'data.ndarray'],
  ])('refuses a request with %s', (_name, body, code, field) => {
    expect(() => instancesOf(body, settings)).toThrow(expect.objectContaining({ code, field }));
  });

  it.each([
    [
      "a jsonData Backflow cannot read as predictions (a model's own keys)",
      { jsonData: { my_predictions: [[3.9589564268624405e-18, 4.098772877346702e-9, 0.9999999959012271]] }, meta: {} },
      'interop/invalid_payload',
      'jsonData',
    ],
    [
      'a row wider than the classes',
      { data: { names: ['dummy_proba_0', 'dummy_proba_1', 'dummy_float'], ndarray: [[0.85, 0.15, 3.65]] } },
      'interop/shape_mismatch',
      'data.ndarray.0',
    ],
    [
      'a tensor shape asking for billions of rows',
      { data: { tensor: { shape: [4_294_967_296, 0], values: [] } } },
      'interop/shape_mismatch',
      'data.tensor.shape',
    ],
  ])('refuses a response with %s', (_name, body, code, field) => {
    expect(() => outcomesOf(body, classes)).toThrow(expect.objectContaining({ code, field }));
  });

  it('names the refused jsonData in the message', () => {
    expect(() => outcomesOf({ jsonData: { my_predictions: [[0.1, 0.9]] } }, classes)).toThrow(
      /jsonData: a response's jsonData is read as .* it holds an object of "my_predictions"/,
    );
  });

  it("pairs Seldon's halves by ce-requestid (each of its events has its own ce-id), KServe's by ce-id", () => {
    expect(pairIdOf({ id: 'c1a0b8e2', requestid: 'puid-1' })).toBe('puid-1');
    expect(pairIdOf({ id: 'kserve-1' })).toBe('kserve-1');
    const request = {
      attributes: { id: 'ce-1', requestid: 'puid-7', type: 'io.seldon.serving.inference.request', modelid: 'classifier' },
      body: {
        data: {
          names: ['a', 'b'],
          ndarray: [
            [1, 2],
            [3, 4],
          ],
        },
      },
    };
    const response = {
      attributes: { id: 'ce-2', requestid: 'puid-7', type: 'io.seldon.serving.inference.response' },
      body: {
        data: {
          names: ['t:0', 't:1'],
          ndarray: [
            [0.9, 0.1],
            [0.2, 0.8],
          ],
        },
        meta: { puid: 'puid-7' },
      },
    };
    const made = predictionsOfPair(request, response, settings, classes) as Array<Record<string, unknown>>;
    expect(made.map((p) => p.id)).toEqual([predictionIdOf('puid-7', 0), predictionIdOf('puid-7', 1)]);
    expect(made[1]).toMatchObject({
      input: { a: 3, b: 4 },
      scores: { ham: 0.2, spam: 0.8 },
      metadata: { kserve: { eventId: 'puid-7', instance: 1, modelId: 'classifier' } },
    });
  });

  it('names the row whose class is unknown where it is in the body', () => {
    const request = { attributes: { id: 'e', type: 'x.inference.request' }, body: { data: { ndarray: [[1]] } } };
    const response = { attributes: { id: 'e', type: 'x.inference.response' }, body: { data: { ndarray: ['eggs'] } } };
    expect(() => predictionsOfPair(request, response, settings, classes)).toThrow(
      expect.objectContaining({ code: 'interop/unknown_class', field: 'data.ndarray.0' }),
    );
  });
});
