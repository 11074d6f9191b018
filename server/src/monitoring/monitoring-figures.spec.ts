import { MonitoringSettings, type KindMetrics, type SliceAccuracy } from '@backflow/contracts';
import { kindMeasureOf, Question } from '@backflow/questions';
import { accuracyAlerts, accuracyTable, ALL, driftOf, headlineAlerts, rolledInputs, type Windows } from './monitoring-figures';
import type { LabeledPrediction } from './monitoring.repository';

const settings = MonitoringSettings.parse({ minLabels: 5 });
const estimate = (value: number, standardError: number, n = 40) => ({ value, standardError, n, effectiveN: n });

function row(
  metric: KindMetrics['headline']['metric'],
  better: 'higher' | 'lower',
  baseline: number,
  current: number,
  se = 0.02,
  slice = [ALL, ALL],
): SliceAccuracy {
  return {
    modelVersion: ALL,
    sliceKey: slice[0],
    sliceValue: slice[1],
    accuracy: null,
    baseline: null,
    calibrationError: null,
    perClass: [],
    series: [],
    metrics: {
      kind: 'text',
      headline: { metric, better, value: estimate(current, se), baseline: estimate(baseline, se), series: [] },
      current: null,
    },
    support: { explored: 0, coverage: null, supported: false },
    confidenceBased: null,
  };
}

describe('headline alerts', () => {
  it('alerts on an F1 or an accuracy that fell by the margin, significantly, with the metric and the slice', () => {
    const alerts = headlineAlerts([row('micro_f1', 'higher', 0.8, 0.6, 0.02, ['country', 'FR']), row('within_one_accuracy', 'higher', 0.9, 0.7)], settings);
    expect(alerts.map((a) => [a.subject, a.slice, a.kind])).toEqual([
      ['micro_f1:country=FR', 'country=FR', 'accuracy'],
      ['within_one_accuracy:*', null, 'accuracy'],
    ]);
    expect(alerts[0]).toMatchObject({ value: 0.6, baseline: 0.8, details: { metric: 'micro_f1', labels: 40, baselineLabels: 40 } });
    expect(alerts[0].threshold).toBeCloseTo(0.75, 12);
    expect(alerts[0].message).toMatch(/^micro F1 on country=FR fell to 0\.600 from 0\.800/);
  });

  it('alerts on an MAE that rose by maeRise of its baseline, not on one that fell or rose less', () => {
    const [rose] = headlineAlerts([row('mae', 'lower', 2, 3, 0.1)], settings);
    // 2 · (1 + 0.2)
    expect(rose).toMatchObject({ subject: 'mae:*', value: 3, baseline: 2 });
    expect(rose.threshold).toBeCloseTo(2.4, 12);
    expect(rose.message).toMatch(/^MAE on all traffic rose to 3\.000 from 2\.000/);
    expect(headlineAlerts([row('mae', 'lower', 3, 2, 0.1)], settings)).toEqual([]);
    // 2.3 is significant (z = 0.3 / 0.01414) but under 2.4
    expect(headlineAlerts([row('mae', 'lower', 2, 2.3, 0.01)], settings)).toEqual([]);
  });

  it('does not alert on a fall that is not significant, under the margin, on too few labels, or of one model version', () => {
    // a fall of 0.2 on √2 · 0.2 standard error: p ≈ 0.24
    expect(headlineAlerts([row('span_f1', 'higher', 0.8, 0.6, 0.2)], settings)).toEqual([]);
    expect(headlineAlerts([row('exact_accuracy', 'higher', 0.8, 0.78, 0.001)], settings)).toEqual([]);
    const few = row('span_f1', 'higher', 0.8, 0.4);
    few.metrics!.headline.value!.n = 4;
    expect(headlineAlerts([few], settings)).toEqual([]);
    expect(headlineAlerts([{ ...row('span_f1', 'higher', 0.8, 0.4), modelVersion: '2' }], settings)).toEqual([]);
  });
});

describe('accuracy table by kind', () => {
  const now = new Date('2025-06-02T12:00:00Z');
  const windows: Windows = {
    now,
    windowFrom: new Date('2025-06-01T12:00:00Z'),
    baselineFrom: new Date('2025-05-25T12:00:00Z'),
    chartFrom: new Date('2025-06-01T12:00:00Z'),
    bucket: 'hour',
  };
  const label = (occurredAt: string, predicted: number, answer: number, inclusionProbability: number | null, country = 'FR'): LabeledPrediction => ({
    label: String(answer),
    predictedLabel: String(predicted),
    measured: { output: { value: predicted }, answer },
    confidence: 0.5,
    modelVersion: '1',
    slice: { country },
    occurredAt: new Date(occurredAt),
    inclusionProbability,
  });

  it('gives each row its kind’s figures, headline baseline and series, weighted by the inclusion probability', () => {
    const measure = kindMeasureOf(Question.parse({ name: 'price', kind: 'numeric' }));
    const rows = accuracyTable(
      [
        label('2025-06-02T10:10:00Z', 10, 12, 0.5),
        label('2025-06-02T11:10:00Z', 10, 11, null, 'DE'),
        label('2025-05-30T10:00:00Z', 10, 10, null),
        // before the reference window: in no figure
        label('2025-05-01T10:00:00Z', 10, 100, null),
      ],
      windows,
      [],
      measure,
    );
    const all = rows.find((r) => r.modelVersion === ALL && r.sliceKey === ALL)!;
    expect(all.metrics?.kind).toBe('numeric');
    // errors 2 (weight 2) and 1 (weight 1)
    expect(all.metrics!.headline.value!.value).toBeCloseTo(5 / 3, 12);
    expect(all.metrics!.headline.baseline).toMatchObject({ value: 0, n: 1 });
    expect(all.metrics!.headline.series.map((p) => [p.at, p.value.value])).toEqual([
      ['2025-06-02T10:00:00.000Z', 2],
      ['2025-06-02T11:00:00.000Z', 1],
    ]);
    expect(all.metrics!.current).toMatchObject({ kind: 'numeric', n: 2, mae: 5 / 3, coverage: null });
    expect(rows.find((r) => r.sliceKey === 'country' && r.sliceValue === 'DE')!.metrics!.current).toMatchObject({ n: 1, mae: 1 });
    // the text form still says whether the number is exactly right
    expect(all.accuracy).toMatchObject({ value: 0, n: 2 });
  });

  it('keeps a label question’s rows as they were: no metrics', () => {
    const rows = accuracyTable([{ ...label('2025-06-02T10:10:00Z', 1, 1, null), measured: undefined }], windows, ['1', '2']);
    expect(rows.every((r) => r.metrics === null)).toBe(true);
    expect(rows[0].perClass.map((c) => c.label)).toEqual(['1', '2']);
    expect(accuracyAlerts(rows, settings)).toEqual([]);
  });
});

describe('drift against rollups', () => {
  const hours = [
    {
      slice: { group: 'new' },
      features: {
        distance: { present: 4, bins: { '0': 1, '2': 3 } },
        surface: { present: 4, values: { road: 3, trail: 1 }, other: 0 },
      },
    },
    {
      slice: { group: 'regular' },
      features: {
        distance: { present: 6, bins: { '1': 6 } },
        surface: { present: 6, values: { road: 1, trail: 5 }, other: 2 },
        // a numeric feature whose edges are unknown is left out
        pace: { present: 6, bins: { '0': 6 } },
      },
    },
  ];
  const rolled = rolledInputs(hours, new Map([['distance', [5, 10]]]));

  it('sums the hours per feature, overall and within a slice value', () => {
    expect(rolled.overall.get('distance')).toEqual({ statistics: { kind: 'numeric', edges: [5, 10], counts: [1, 6, 3] }, present: 10 });
    expect(rolled.overall.get('surface')).toEqual({
      statistics: {
        kind: 'categorical',
        frequencies: new Map([
          ['road', 4],
          ['trail', 6],
        ]),
      },
      present: 10,
    });
    expect(rolled.overall.has('pace')).toBe(false);
    expect(rolled.slice('group=new').get('distance')).toEqual({ statistics: { kind: 'numeric', edges: [5, 10], counts: [1, 0, 3] }, present: 4 });
  });

  it('measures the current inputs against them, and needs minCount on the reference too', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const windows: Windows = {
      now,
      windowFrom: new Date('2026-12-03T12:00:00Z'),
      baselineFrom: new Date('2026-11-26T12:00:00Z'),
      chartFrom: new Date('2026-12-03T12:00:00Z'),
      bucket: 'hour',
    };
    // the same shares as the reference: no drift; the reference has 10 inputs
    const current = [1, 7, 7, 7, 7, 7, 7, 12, 12, 12].map((distance, i) => ({
      input: { distance },
      slice: { group: i < 4 ? 'new' : 'regular' },
      occurredAt: now,
    }));
    const schema = { features: [{ name: 'distance', type: 'float' as const, required: true }] };
    const measured = (minCount: number) => driftOf(schema, [], current, windows, MonitoringSettings.parse({ drift: { minCount } }), rolled).features[0];
    expect(measured(10).value).toBe(0);
    expect(measured(10).baseline).toBe('reference_window');
    expect(measured(11).value).toBeNull();
  });
});
