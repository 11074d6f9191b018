import { puidOf, rowCountOf, truthLabelsOf } from './seldon-feedback';

const classes = ['ham', 'spam'];

describe('truthLabelsOf', () => {
  it.each([
    ['a one-hot ndarray', { data: { ndarray: [[0, 1]] } }, ['spam']],
    ['class names', { data: { ndarray: ['ham', ['spam']] } }, ['ham', 'spam']],
    ['class indexes', { data: { ndarray: [1, 0] } }, ['spam', 'ham']],
    ['a tensor of probabilities', { data: { tensor: { shape: [2, 2], values: [0.9, 0.1, 0.2, 0.8] } } }, ['ham', 'spam']],
    ['a tensor of indexes', { data: { tensor: { shape: [1], values: [1] } } }, ['spam']],
    ['columns ordered by data.names', { data: { names: ['spam', 'ham'], ndarray: [[1, 0]] } }, ['spam']],
    ['strData', { strData: 'ham' }, ['ham']],
    ['jsonData', { jsonData: ['spam'] }, ['spam']],
  ])('%s', (_name, truth, expected) => {
    expect(truthLabelsOf(truth, classes)).toEqual(expected);
  });

  it.each([
    ['an unknown class', { data: { ndarray: ['eggs'] } }, 'interop/unknown_class', 'truth.data.ndarray.0'],
    ['a vector of the wrong width', { data: { ndarray: [[0, 0, 1]] } }, 'interop/unknown_class', 'truth.data.ndarray.0'],
    ['a tensor whose shape and values disagree', { data: { tensor: { shape: [2, 2], values: [1] } } }, 'interop/shape_mismatch', 'truth.data.tensor.values'],
    ['no payload', { meta: {} }, 'interop/invalid_payload', 'truth'],
    ['no rows', { data: { ndarray: [] } }, 'interop/invalid_payload', 'truth.data.ndarray'],
    [
      'a tensor shaped for more rows than a message speaks for',
      { data: { tensor: { shape: [1e15, 0], values: [] } } },
      'interop/invalid_payload',
      'truth.data.tensor.shape',
    ],
    ['a tensor whose rows hold no values', { data: { tensor: { shape: [3, 0], values: [] } } }, 'interop/shape_mismatch', 'truth.data.tensor.shape'],
  ])('refuses %s', (_name, truth, code, field) => {
    expect(() => truthLabelsOf(truth, classes)).toThrow(expect.objectContaining({ code, field }));
  });
});

describe('puidOf and rowCountOf', () => {
  it("reads the response's puid first, then the request's", () => {
    expect(puidOf({ response: { meta: { puid: 'r' } }, request: { meta: { puid: 'q' } } })).toBe('r');
    expect(puidOf({ request: { meta: { puid: 'q' } } })).toBe('q');
    expect(() => puidOf({})).toThrow(expect.objectContaining({ code: 'interop/missing_puid' }));
  });
  it('counts the rows of the logged request or response', () => {
    expect(rowCountOf({ response: { data: { ndarray: [[1], [2], [3]] } } })).toBe(3);
    expect(rowCountOf({ response: { meta: { puid: 'x' } } })).toBe(1);
    expect(rowCountOf({ response: { meta: { puid: 'x' } }, request: { data: { tensor: { shape: [2, 2], values: [1, 2, 3, 4] } } } })).toBe(2);
    // read from the shape, never by making the rows, and at most 1,000
    expect(rowCountOf({ response: { data: { tensor: { shape: [1e15, 0], values: [] } } } })).toBe(1_000);
  });
});
