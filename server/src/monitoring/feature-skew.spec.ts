import { gzipSync } from 'node:zlib';
import { encodeExample, frameRecord, type ExampleFeatures } from '@backflow/tfrecord';
import { MonitoringSettings } from '@backflow/contracts';
import { DomainError } from '../common/errors';
import { featureSkew, featureSkewAlerts, readTrainingExamples } from './feature-skew';

const tfrecord = (examples: ExampleFeatures[]) => Buffer.concat(examples.map((e) => frameRecord(encodeExample(e))));
const options = { identifier: 'id', ignore: [], reserved: [], at: new Date('2026-12-05T00:00:00Z') };

describe('feature skew, as TFDV’s feature skew detector counts it', () => {
  it('reproduces the detector’s documented example: float_values [1, 2] against [1, 3] is one mismatch', () => {
    // tensorflow_data_validation/skew/feature_skew_detector.py, module docstring
    const training = readTrainingExamples(tfrecord([{ id: { kind: 'bytes', values: ['id_1'] }, float_values: { kind: 'float', values: [1, 2] } }]));
    const report = featureSkew(training, new Map([['id_1', { input: { float_values: [1, 3] }, slice: {} }]]), options);
    expect(report.features).toEqual([
      {
        feature: 'float_values',
        trainingCount: 1,
        servingCount: 1,
        matchCount: 0,
        trainingOnly: 0,
        servingOnly: 0,
        mismatchCount: 1,
        diffCount: 1,
        diffRate: 1,
        slices: [],
      },
    ]);
    expect(report.samples).toEqual([
      {
        id: 'id_1',
        slice: {},
        mismatched: ['float_values'],
        trainingOnly: [],
        servingOnly: [],
        training: { float_values: [1, 2] },
        serving: { float_values: [1, 3] },
      },
    ]);
  });

  it('compares in the training feature’s kind: a float as float32, an int exactly, a bool as 0/1, a number in bytes as its text', () => {
    const training = readTrainingExamples(
      tfrecord([
        {
          id: { kind: 'bytes', values: ['a'] },
          pace: { kind: 'float', values: [0.1] },
          runs: { kind: 'int64', values: [2n ** 60n] },
          member: { kind: 'int64', values: [1] },
          zip: { kind: 'bytes', values: ['8004'] },
          tags: { kind: 'bytes', values: ['x', 'y'] },
        },
      ]),
    );
    const same = featureSkew(
      training,
      new Map([['a', { input: { pace: 0.1, runs: 2n ** 60n, member: true, zip: 8004, tags: ['x', 'y'] }, slice: { country: 'CH' } }]]),
      options,
    );
    expect(same.features.map((f) => [f.feature, f.matchCount])).toEqual([
      ['member', 1],
      ['pace', 1],
      ['runs', 1],
      ['tags', 1],
      ['zip', 1],
    ]);
    const other = featureSkew(
      training,
      new Map([['a', { input: { pace: 0.1000001, runs: 2 ** 60 + 256, member: 'yes', zip: 8005, tags: ['y', 'x'] }, slice: { country: 'CH' } }]]),
      options,
    );
    expect(other.features.every((f) => f.mismatchCount === 1)).toBe(true);
    expect(other.features[0].slices).toEqual([{ slice: 'country=CH', pairs: 1, diffCount: 1, diffRate: 1 }]);
    // rounded to 3 decimals, 0.1 and 0.1000001 are the same
    const rounded = featureSkew(training, new Map([['a', { input: { pace: 0.1000001 }, slice: {} }]]), { ...options, floatRoundDigits: 3 });
    expect(rounded.features.find((f) => f.feature === 'pace')).toMatchObject({ matchCount: 1 });
  });

  it('leaves out examples without one identifier or sharing one, and renames an input that collides with an export column', () => {
    const training = readTrainingExamples(
      Buffer.from(
        [
          JSON.stringify({ id: 'a', weight: 3, input_weight: 3 }),
          JSON.stringify({ id: 'b', x: 1 }),
          JSON.stringify({ id: 'b', x: 2 }),
          JSON.stringify({ x: 1 }),
          JSON.stringify({ id: ['c', 'd'], x: 1 }),
        ].join('\n'),
      ),
    );
    const predictions = new Map([
      ['a', { input: { weight: 3 }, slice: {} }],
      ['b', { input: { x: 1 }, slice: {} }],
    ]);
    const report = featureSkew(training, predictions, { ...options, reserved: ['weight'] });
    expect(report).toMatchObject({ trainingExamples: 5, withoutIdentifier: 2, duplicateIdentifiers: 1, pairs: 1, ignored: ['weight'] });
    expect(report.features).toEqual([expect.objectContaining({ feature: 'input_weight', matchCount: 1 })]);
  });

  it('refuses what is not training examples with a stable code naming the body, and a GZIP body that inflates too far', () => {
    const refused = (body: Buffer, limit?: number) => {
      try {
        readTrainingExamples(body, limit);
      } catch (error) {
        return error instanceof DomainError ? [error.code, error.field] : error;
      }
      return 'read';
    };
    expect(refused(Buffer.from('{"a": 1}\nnot json'))).toEqual(['monitoring/invalid_training_examples', 'body']);
    expect(refused(tfrecord([{ id: { kind: 'bytes', values: ['a'] } }]).subarray(0, 20))).toEqual(['monitoring/invalid_training_examples', 'body']);
    expect(refused(gzipSync(Buffer.alloc(10_000)), 1_000)).toEqual(['monitoring/invalid_training_examples', 'body']);
    expect(refused(gzipSync(tfrecord([{ id: { kind: 'bytes', values: ['a'] } }])))).toBe('read');
  });

  it('alerts on a feature, and on a slice of it, past the rate once there are enough pairs', () => {
    const examples = readTrainingExamples(
      Buffer.from(Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `p${i}`, x: i % 3 === 0 ? -1 : i })).join('\n')),
    );
    const predictions = new Map(Array.from({ length: 30 }, (_, i) => [`p${i}`, { input: { x: i }, slice: { country: i < 15 ? 'CH' : 'FR' } }]));
    const report = featureSkew(examples, predictions, options);
    const settings = MonitoringSettings.parse({ skew: { minPairs: 10 } });
    expect(featureSkewAlerts(report, settings).map((a) => [a.subject, a.value])).toEqual([
      ['skew:feature:x', 1 / 3],
      ['skew:feature:x:country=CH', 5 / 15],
      ['skew:feature:x:country=FR', 5 / 15],
    ]);
    expect(featureSkewAlerts(report, MonitoringSettings.parse({ skew: { minPairs: 10, featureDiffRate: 0.5 } }))).toEqual([]);
    expect(featureSkewAlerts(report, MonitoringSettings.parse({}))).toHaveLength(1);
  });

  it('takes features named like object properties, compares JSON objects whatever their key order, and integers past 2^53 exactly', () => {
    const training = readTrainingExamples(
      Buffer.from(
        ['{"id": "a", "__proto__": 1, "constructor": "x", "route": {"b": 2, "a": 1}, "big": 9007199254740993}', '{"id": "b", "kind": 1, "values": [1]}'].join(
          '\n',
        ),
      ),
    );
    const predictions = new Map([
      [
        'a',
        { input: JSON.parse('{"__proto__": 1, "constructor": "x", "route": {"a": 1, "b": 2}, "big": 9007199254740993}') as Record<string, unknown>, slice: {} },
      ],
      ['b', { input: { kind: 1, values: [1], hasOwnProperty: 'served only' }, slice: {} }],
    ]);
    predictions.get('a')!.input.big = 9007199254740993n;
    const report = featureSkew(training, predictions, options);
    expect(report.pairs).toBe(2);
    expect(report.features.map((f) => [f.feature, f.matchCount, f.mismatchCount, f.servingOnly]).sort()).toEqual([
      ['__proto__', 1, 0, 0],
      ['big', 1, 0, 0],
      ['constructor', 1, 0, 0],
      ['hasOwnProperty', 0, 0, 1],
      ['kind', 1, 0, 0],
      ['route', 1, 0, 0],
      ['values', 1, 0, 0],
    ]);
    // an identifier named like a property is a feature like another
    expect(featureSkew(training, predictions, { ...options, identifier: 'hasOwnProperty' }).withoutIdentifier).toBe(2);
  });

  it('rates a slice over its pairs, as the whole over all pairs: a feature most examples lack is not worse within a slice', () => {
    const training = readTrainingExamples(
      Buffer.from(Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `p${i}`, ...(i < 2 && { promo: 'x' }) })).join('\n')),
    );
    const predictions = new Map(Array.from({ length: 20 }, (_, i) => [`p${i}`, { input: {}, slice: { country: 'CH' } }]));
    const promo = featureSkew(training, predictions, options).features[0];
    expect(promo).toMatchObject({ feature: 'promo', trainingOnly: 2, diffRate: 0.1 });
    expect(promo.slices).toEqual([{ slice: 'country=CH', pairs: 20, diffCount: 2, diffRate: 0.1 }]);
  });
});
