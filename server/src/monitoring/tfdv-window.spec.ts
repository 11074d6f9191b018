import { declaredTypes, maskedAnomalies, servingEnvironment, statisticsOf, tfdvSchemaOf, validateWindow } from './tfdv-window';

const at = new Date('2026-12-05T10:00:00Z');
const inputs = (rows: Array<Record<string, unknown>>, slice: (i: number) => Record<string, string> = () => ({})) =>
  rows.map((input, i) => ({ input, slice: slice(i), occurredAt: at }));

describe('the serving window as TFDV sees it', () => {
  it('types a feature by the schema when every value fits it, else by its values', () => {
    const declared = new Map([
      ['minutes', 'FLOAT' as const],
      ['zip', 'STRING' as const],
    ]);
    const stats = statisticsOf(
      inputs([
        { minutes: 3, zip: 8004, runs: 2, flag: true, note: { a: 2n ** 60n } },
        { minutes: 4.5, zip: '8005', runs: 3 },
      ]),
      declared,
    );
    expect(Object.fromEntries(stats.features.map((f) => [f.path.step[0], f.type]))).toEqual({
      flag: 'INT',
      minutes: 'FLOAT',
      note: 'STRING',
      runs: 'INT',
      zip: 'STRING',
    });
    expect(stats.features.find((f) => f.path.step[0] === 'note')!.string_stats!.top_values).toEqual([{ value: '{"a":"1152921504606846976"}', frequency: 1 }]);
    // a string among the numbers of a FLOAT feature: STRING statistics, and TFDV's UNEXPECTED_DATA_TYPE
    const schema = tfdvSchemaOf({ features: [{ name: 'minutes', type: 'float', required: true }] });
    const window = validateWindow(inputs([{ minutes: 3 }, { minutes: 'n/a' }]), undefined, schema, declared, {});
    expect(window.features).toEqual([
      {
        feature: 'minutes',
        types: ['UNEXPECTED_DATA_TYPE'],
        shortDescription: 'Unexpected data type',
        description: 'Expected data of type: FLOAT but got STRING',
        slices: [],
      },
    ]);
  });

  it('names the slice values whose own statistics fail a check, and validates in SERVING when the schema has environments', () => {
    const schema = {
      default_environment: ['TRAINING', 'SERVING'],
      feature: [
        { name: 'country', type: 'BYTES', string_domain: { value: ['CH', 'FR'] } },
        { name: 'label', type: 'BYTES', presence: { min_fraction: 1 }, not_in_environment: ['SERVING'] },
      ],
    };
    const window = inputs(
      Array.from({ length: 10 }, (_, i) => ({ country: i < 2 ? 'DE' : 'FR' })),
      (i) => ({ region: i < 2 ? 'north' : 'south', device: i % 2 ? 'ios' : 'web' }),
    );
    const environment = servingEnvironment(schema);
    expect(environment).toBe('SERVING');
    const validated = validateWindow(window, undefined, schema, declaredTypes({ features: [] }, schema), { environment, sliceKeys: ['region'] });
    expect(validated.features.map((f) => [f.feature, f.types, f.slices])).toEqual([['country', ['ENUM_TYPE_UNEXPECTED_STRING_VALUES'], ['region=north']]]);
    // without the environment the label is missing
    expect(validateWindow(window, undefined, schema, new Map(), {}).features.map((f) => f.feature)).toEqual(['country', 'label']);
    // a reviewer's copy: the masked feature's values gone from the texts and the schema
    const masked = maskedAnomalies(validated.anomalies, new Set(['country']));
    expect(JSON.stringify(masked)).not.toContain('DE');
    expect(JSON.stringify(masked)).not.toContain('"CH"');
  });
});
