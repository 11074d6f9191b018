import { MultiLabelQuestion, Question, RatingQuestion, SpansQuestion } from './definitions';
import {
  intervalOf,
  kindMeasureOf,
  meanAbsoluteError,
  microF1,
  multiLabelFigures,
  numericFigures,
  ratingFigures,
  ratioEstimate,
  spanF1,
  spansFigures,
  textExactAccuracy,
  textFigures,
  weightedSpearman,
  withinOneAccuracy,
  worsePValue,
  Z95,
} from './metrics';

const topics = MultiLabelQuestion.parse({ name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'politics' }, { name: 'tech' }] });
const quality = RatingQuestion.parse({ name: 'quality', kind: 'rating', points: [1, 2, 3, 4, 5].map((value) => ({ value, name: `q${value}` })) });
const ents = SpansQuestion.parse({ name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }] });

describe('ratioEstimate', () => {
  it('is Σw·a / Σw·b with the linearised standard error and Kish’s effective size', () => {
    // a proportion: y = 1, 0, 1 with weights 1, 1, 2 → 3/4
    // residuals w·(y − ¾): 0.25, −0.75, 0.5 → √(0.0625 + 0.5625 + 0.25) / 4 = √0.875 / 4
    const e = ratioEstimate([
      { numerator: 1, denominator: 1, weight: 1 },
      { numerator: 0, denominator: 1, weight: 1 },
      { numerator: 1, denominator: 1, weight: 2 },
    ])!;
    expect(e.value).toBeCloseTo(0.75, 12);
    expect(e.standardError).toBeCloseTo(Math.sqrt(0.875) / 4, 12);
    expect(e.n).toBe(3);
    expect(e.effectiveN).toBeCloseTo(16 / 6, 12);
  });

  it('with weights of 1, a proportion’s standard error is √(p(1 − p)/n)', () => {
    const e = ratioEstimate([1, 1, 1, 0].map((y) => ({ numerator: y, denominator: 1, weight: 1 })))!;
    expect(e.standardError).toBeCloseTo(Math.sqrt((0.75 * 0.25) / 4), 12);
  });

  it('is undefined with no unit or nothing in the denominator', () => {
    expect(ratioEstimate([])).toBeUndefined();
    expect(ratioEstimate([{ numerator: 0, denominator: 0, weight: 3 }])).toBeUndefined();
  });
});

describe('worsePValue', () => {
  it.each([
    // worse by 0.1 on √(0.03² + 0.04²) = 0.05: z = 2, 1 − Φ(2) = 0.02275
    ['a rate that fell two standard errors', { value: 0.9, standardError: 0.03 }, { value: 0.8, standardError: 0.04 }, 'higher', 0.02275],
    // the same change is an improvement when lower is better: Φ(−2)… seen from the other side
    ['the same change of an error', { value: 0.9, standardError: 0.03 }, { value: 0.8, standardError: 0.04 }, 'lower', 0.97725],
    // an MAE up 0.5 on √(0.1² + 0.2²) = 0.223607: z = 2.236068, 1 − Φ = 0.012674
    ['an error that rose', { value: 1, standardError: 0.1 }, { value: 1.5, standardError: 0.2 }, 'lower', 0.012674],
    ['a fall with no spread on either side', { value: 1, standardError: 0 }, { value: 0.5, standardError: 0 }, 'higher', 0],
    ['no change with no spread', { value: 1, standardError: 0 }, { value: 1, standardError: 0 }, 'higher', 1],
  ] as const)('%s', (_what, baseline, current, better, p) => {
    expect(worsePValue(baseline, current, better)).toBeCloseTo(p, 5);
  });
});

describe('multi-label figures', () => {
  // unit  model           label       weight  tp fp fn  labels wrong
  // 1     sports, tech    sports,tech 1       2  0  0   0
  // 2     politics        politics,tech 1     1  0  1   1 (tech)
  // 3     sports,politics sports      2       1  1  0   1 (politics)
  // 4     tech            sports      1       0  1  1   2
  const units = [
    { predicted: ['sports', 'tech'], actual: ['sports', 'tech'], weight: 1 },
    { predicted: ['politics'], actual: ['politics', 'tech'], weight: 1 },
    { predicted: ['sports', 'politics'], actual: ['sports'], weight: 2 },
    { predicted: ['tech'], actual: ['sports'], weight: 1 },
  ];

  it('weights per-label and micro precision, recall and F1, Hamming loss and subset accuracy', () => {
    const f = multiLabelFigures(topics, units)!;
    expect(f.n).toBe(4);
    expect(f.effectiveN).toBeCloseTo(25 / 7, 12);
    // one exact set of weight 1 over a total weight of 5
    expect(f.subsetAccuracy).toBeCloseTo(1 / 5, 12);
    // (0 + 1/3 + 2 · 1/3 + 2/3) / 5
    expect(f.hammingLoss).toBeCloseTo(1 / 3, 12);
    // TP = 2 + 1 + 2 = 5, FP = 2 + 1 = 3, FN = 1 + 1 = 2
    expect(f.micro.precision).toBeCloseTo(5 / 8, 12);
    expect(f.micro.recall).toBeCloseTo(5 / 7, 12);
    expect(f.micro.f1).toBeCloseTo(10 / 15, 12);
    const byLabel = Object.fromEntries(f.perLabel.map((l) => [l.label, l]));
    // sports: TP 1 + 2 = 3, FN 1 → P 1, R 3/4, F1 6/7; labelled on weight 1 + 2 + 1
    expect(byLabel.sports).toMatchObject({ precision: 1, recall: 0.75, support: 4 });
    expect(byLabel.sports.f1).toBeCloseTo(6 / 7, 12);
    // politics: TP 1, FP 2 → P 1/3, R 1, F1 2/4
    expect(byLabel.politics.precision).toBeCloseTo(1 / 3, 12);
    expect(byLabel.politics).toMatchObject({ recall: 1, f1: 0.5, support: 1 });
    // tech: TP 1, FP 1, FN 1
    expect(byLabel.tech).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(f.macroF1).toBeCloseTo((6 / 7 + 0.5 + 0.5) / 3, 12);
    expect(f.perLabel.map((l) => l.label)).toEqual(['sports', 'politics', 'tech']);
  });

  it('micro F1 as an estimate is the same figure', () => {
    expect(microF1(units)!.value).toBeCloseTo(multiLabelFigures(topics, units)!.micro.f1!, 12);
  });

  it('leaves a label’s figures null when nothing decides them', () => {
    const f = multiLabelFigures(topics, [{ predicted: [], actual: ['sports'], weight: 1 }])!;
    const politics = f.perLabel.find((l) => l.label === 'politics')!;
    expect(politics).toMatchObject({ precision: null, recall: null, f1: null, support: 0 });
    expect(f.micro).toEqual({ precision: null, recall: 0, f1: 0 });
    expect(f.macroF1).toBe(0);
    expect(multiLabelFigures(topics, [])).toBeUndefined();
  });
});

describe('numeric figures', () => {
  // unit  model (interval)        label  error  inside  weight
  // 1     10 [8, 12]              11     1      yes     2
  // 2     20 ± 1.96·2 (16.08, 23.92)  25  5     no      1
  // 3     30 (none)               27     3      —       1
  // 4     40 [35, 50]             34     6      no      1
  const units = [
    { predicted: 10, actual: 11, interval: [8, 12] as const, weight: 2 },
    { predicted: 20, actual: 25, interval: intervalOf({ value: 20, std: 2 }), weight: 1 },
    { predicted: 30, actual: 27, weight: 1 },
    { predicted: 40, actual: 34, interval: [35, 50] as const, weight: 1 },
  ];

  it('weights MAE, RMSE and the coverage of the model’s intervals', () => {
    const f = numericFigures(units)!;
    // (2·1 + 5 + 3 + 6) / 5
    expect(f.mae).toBeCloseTo(16 / 5, 12);
    // √((2·1 + 25 + 9 + 36) / 5)
    expect(f.rmse).toBeCloseTo(Math.sqrt(72 / 5), 12);
    // inside on weight 2 of the 2 + 1 + 1 that have an interval
    expect(f.coverage).toBeCloseTo(0.5, 12);
    expect(f.withInterval).toBe(3);
    expect(meanAbsoluteError(units)!.value).toBeCloseTo(16 / 5, 12);
  });

  it('takes a std as value ± 1.96·std, and an interval as sent', () => {
    expect(intervalOf({ value: 20, std: 2 })).toEqual([20 - 2 * Z95, 20 + 2 * Z95]);
    expect(Z95).toBeCloseTo(1.96, 2);
    expect(intervalOf({ value: 20, std: 2, interval: [1, 2] })).toEqual([1, 2]);
    expect(intervalOf({ value: 20 })).toBeUndefined();
    // 23.9 lies inside 20 ± 3.92, 24 does not
    expect(numericFigures([{ predicted: 20, actual: 23.9, interval: intervalOf({ value: 20, std: 2 }), weight: 1 }])!.coverage).toBe(1);
    expect(numericFigures([{ predicted: 20, actual: 24, interval: intervalOf({ value: 20, std: 2 }), weight: 1 }])!.coverage).toBe(0);
  });

  it('has no coverage when the model sent no interval', () => {
    expect(numericFigures([{ predicted: 1, actual: 2, weight: 1 }])).toMatchObject({ mae: 1, rmse: 1, coverage: null, withInterval: 0 });
  });
});

describe('rating figures', () => {
  // unit  model  nearest point  label  points apart  weight
  // 1     4.2    4              4      0             1
  // 2     2.6    3              1      2             1
  // 3     3.4    3              4      1             2
  // 4     4.9    5              5      0             1
  // 5     1.2    1              2      1             1
  const units = [
    { predicted: 4.2, actual: 4, weight: 1 },
    { predicted: 2.6, actual: 1, weight: 1 },
    { predicted: 3.4, actual: 4, weight: 2 },
    { predicted: 4.9, actual: 5, weight: 1 },
    { predicted: 1.2, actual: 2, weight: 1 },
  ];

  it('weights exact and within-one accuracy, and Spearman’s ρ between the model’s value and the label', () => {
    const f = ratingFigures(quality, units)!;
    // exact on weight 1 + 1 of 6; within one point on 1 + 2 + 1 + 1
    expect(f.exactAccuracy).toBeCloseTo(2 / 6, 12);
    expect(f.withinOneAccuracy).toBeCloseTo(5 / 6, 12);
    // weighted midranks (weight below + half the weight equal):
    //   model 1.2, 2.6, 3.4 (w 2), 4.2, 4.9 → 0.5, 1.5, 3, 4.5, 5.5: by unit [4.5, 1.5, 3, 5.5, 0.5]
    //   label 1, 2, 4 (units 1 and 3: weight 3), 5 → by unit [3.5, 0.5, 3.5, 5.5, 1.5]
    // both means 18/6 = 3; deviations x [1.5, −1.5, 0, 2.5, −2.5], y [0.5, −2.5, 0.5, 2.5, −1.5]
    // cov = 0.75 + 3.75 + 0 + 6.25 + 3.75 = 14.5; var x = 17; var y = 0.25 + 6.25 + 2·0.25 + 6.25 + 2.25 = 15.5
    expect(f.spearman).toBeCloseTo(14.5 / Math.sqrt(17 * 15.5), 12);
    expect(withinOneAccuracy(quality, units)!.value).toBeCloseTo(5 / 6, 12);
  });

  it('Spearman with weights of 1 is the textbook ρ, and a weight of 2 counts a unit twice', () => {
    // ranks differ by 0, 1, 1: 1 − 6·2 / (3·8) = 0.5
    expect(weightedSpearman([1, 2, 3].map((x, i) => ({ x, y: [1, 3, 2][i], weight: 1 })))).toBeCloseTo(0.5, 12);
    const doubled = weightedSpearman([
      { x: 1, y: 1, weight: 1 },
      { x: 2, y: 3, weight: 1 },
      { x: 3, y: 2, weight: 2 },
    ]);
    const repeated = weightedSpearman([
      { x: 1, y: 1, weight: 1 },
      { x: 2, y: 3, weight: 1 },
      { x: 3, y: 2, weight: 1 },
      { x: 3, y: 2, weight: 1 },
    ]);
    // midranks x [0.5, 1.5, 3], y [0.5, 3.5, 2], means 2: cov 1.5, var 4.5 and 4.5
    expect(doubled).toBeCloseTo(1 / 3, 12);
    expect(repeated).toBeCloseTo(1 / 3, 12);
  });

  it('has no ρ when a side does not vary', () => {
    expect(ratingFigures(quality, [{ predicted: 3, actual: 3, weight: 1 }])!.spearman).toBeNull();
    expect(weightedSpearman([1, 2].map((x) => ({ x, y: 4, weight: 1 })))).toBeUndefined();
  });
});

describe('span figures', () => {
  const span = (start: number, end: number, label: string) => ({ start, end, label });
  // unit  model                         label                  tp fp fn  weight
  // 1     0–12 PER, 17–32 PER, 40–53 ORG  the same             3  0  0   1
  // 2     0–12 PER, 40–53 PER           0–12 PER, 40–53 ORG    1  1  1   2
  // 3     0–3 PER                       0–12 PER               0  1  1   1
  // 4     none                          17–32 PER              0  0  1   1
  const units = [
    {
      predicted: [span(0, 12, 'PER'), span(17, 32, 'PER'), span(40, 53, 'ORG')],
      actual: [span(0, 12, 'PER'), span(17, 32, 'PER'), span(40, 53, 'ORG')],
      weight: 1,
    },
    { predicted: [span(0, 12, 'PER'), span(40, 53, 'PER')], actual: [span(0, 12, 'PER'), span(40, 53, 'ORG')], weight: 2 },
    { predicted: [span(0, 3, 'PER')], actual: [span(0, 12, 'PER')], weight: 1 },
    { predicted: [], actual: [span(17, 32, 'PER')], weight: 1 },
  ];

  it('matches start, end and label exactly, micro-averaged and weighted', () => {
    // TP 3 + 2 = 5, FP 2 + 1 = 3, FN 2 + 1 + 1 = 4
    const f = spansFigures(units)!;
    expect(f.precision).toBeCloseTo(5 / 8, 12);
    expect(f.recall).toBeCloseTo(5 / 9, 12);
    expect(f.f1).toBeCloseTo(10 / 17, 12);
    expect(spanF1(units)!.value).toBeCloseTo(10 / 17, 12);
    expect(f.n).toBe(4);
  });

  it('has no F1 when no unit has a span on either side', () => {
    expect(spansFigures([{ predicted: [], actual: [], weight: 1 }])).toMatchObject({ precision: null, recall: null, f1: null });
    expect(spanF1([{ predicted: [], actual: [], weight: 1 }])).toBeUndefined();
  });
});

describe('text figures', () => {
  it('counts exact matches, ends trimmed, weighted', () => {
    const units = [
      { predicted: 'A meeting. ', actual: 'A meeting.', weight: 1 },
      { predicted: 'A meting', actual: 'A meeting', weight: 3 },
      { predicted: '\tsame\n', actual: 'same', weight: 1 },
      // inner spaces and case count
      { predicted: 'a  meeting', actual: 'a meeting', weight: 1 },
    ];
    expect(textFigures(units)!.exactAccuracy).toBeCloseTo(2 / 6, 12);
    expect(textExactAccuracy(units)!.value).toBeCloseTo(2 / 6, 12);
    // edits over the longer text, ends trimmed: 0, 1/9 (weight 3), 0, 1/10
    expect(textFigures(units)!.meanEditDistance).toBeCloseTo((3 / 9 + 1 / 10) / 6, 12);
  });
});

describe('kindMeasureOf', () => {
  it('has none for a label question: accuracy says it', () => {
    expect(kindMeasureOf(Question.parse({ name: 'label', kind: 'label', labels: [{ name: 'a' }, { name: 'b' }] }))).toBeUndefined();
  });

  it('reads a multi-label model’s labels from its scores at the cutoff (or its value), and its headline is micro F1', () => {
    const m = kindMeasureOf(topics)!;
    expect(m).toMatchObject({ kind: 'multi_label', headline: 'micro_f1', better: 'higher' });
    expect(m.unit({ scores: { sports: 0.5, politics: 0.49, tech: 0.9 } }, ['tech'], 2)).toEqual({ predicted: ['sports', 'tech'], actual: ['tech'], weight: 2 });
    expect(m.unit({ value: ['politics'], scores: { sports: 0.9 } }, [], 1)).toMatchObject({ predicted: ['politics'] });
    expect(m.unit(undefined, ['tech'], 1)).toBeUndefined();
    expect(m.unit({ scores: { sports: 0.9 } }, null, 1)).toBeUndefined();
    const units = [m.unit({ scores: { sports: 0.9, tech: 0.2 } }, ['sports'], 1)!, m.unit({ scores: { sports: 0.9, tech: 0.7 } }, ['sports'], 3)!];
    // TP 1 + 3, FP 3: F1 8 / 11
    expect(m.headlineOf(units)!.value).toBeCloseTo(8 / 11, 12);
    expect(m.figures(units)).toMatchObject({ kind: 'multi_label', subsetAccuracy: 0.25 });
  });

  it('gives a numeric model’s std as its interval, and its headline MAE gets better lower', () => {
    const m = kindMeasureOf(Question.parse({ name: 'price', kind: 'numeric' }))!;
    expect(m).toMatchObject({ kind: 'numeric', headline: 'mae', better: 'lower' });
    expect(m.unit({ value: 10, std: 1 }, 12, 1)).toEqual({ predicted: 10, actual: 12, interval: [10 - Z95, 10 + Z95], weight: 1 });
    expect(m.unit({ value: 10 }, 12, 1)).toEqual({ predicted: 10, actual: 12, weight: 1 });
    expect(m.unit({ value: 10 }, 'twelve', 1)).toBeUndefined();
  });

  it('compares a rating on the scale, spans as spans and text as text', () => {
    const rating = kindMeasureOf(quality)!;
    expect(rating.headline).toBe('within_one_accuracy');
    expect(rating.unit({ value: 3.4, std: 0.2 }, 4, 1)).toEqual({ predicted: 3.4, actual: 4, weight: 1 });
    expect(rating.unit({ value: 3.4 }, 7, 1)).toBeUndefined();
    const spans = kindMeasureOf(ents)!;
    expect(spans.headline).toBe('span_f1');
    expect(spans.unit({ spans: [{ start: 4, end: 9, label: 'ORG', score: 0.3 }] }, [], 1)).toEqual({
      predicted: [{ start: 4, end: 9, label: 'ORG' }],
      actual: [],
      weight: 1,
    });
    const text = kindMeasureOf(Question.parse({ name: 'summary', kind: 'text' }))!;
    expect(text).toMatchObject({ headline: 'exact_accuracy', better: 'higher' });
    expect(text.figures([text.unit({ value: ' same ', confidence: 0.2 }, 'same', 4)!])).toEqual({
      kind: 'text',
      n: 1,
      effectiveN: 1,
      exactAccuracy: 1,
      meanEditDistance: 0,
    });
  });

  it('compares a generation by its first response, the one its user saw', () => {
    const generation = kindMeasureOf(Question.parse({ name: 'reply', kind: 'generation' }))!;
    const output = { messages: [{ role: 'user', content: 'Plan my run' }], responses: [{ text: 'Run 5 km.' }, { text: 'Run 8 km.' }] };
    expect(generation.unit(output, 'Run 5 km!', 2)).toEqual({ predicted: 'Run 5 km.', actual: 'Run 5 km!', weight: 2, distance: 1 / 9 });
    expect(generation.unit({ responses: [] }, 'x', 1)).toBeUndefined();
    expect(generation.figures([generation.unit(output, 'Run 5 km.', 1)!])).toMatchObject({ kind: 'text', exactAccuracy: 1, meanEditDistance: 0 });
  });
});
