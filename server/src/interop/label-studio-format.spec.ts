import { predictionKeyOf } from '../common/ids/prediction-key';
import { fromLabelStudioTask, toLabelStudioTask } from './label-studio-format';

const labels = ['Positive', 'Negative'];
const choice = (label: string) => [{ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [label] } }];
const task = (overrides: Record<string, unknown>) => ({ id: 1, data: { text: 'x' }, annotations: [], predictions: [], ...overrides }) as never;
const projectId = '11111111-1111-4111-8111-111111111111';
const rules = { agreementThreshold: 0.6 };

describe('fromLabelStudioTask', () => {
  it('shares the mass the chosen class leaves among the other classes', () => {
    const plan = fromLabelStudioTask(
      task({ predictions: [{ model_version: 'v3', score: 0.8, result: choice('Negative') }] }),
      0,
      labels,
      'project-7',
      projectId,
      rules,
    );
    expect(plan.prediction).toMatchObject({
      model: { name: 'label-studio', version: 'v3' },
      scores: { Positive: expect.closeTo(0.2), Negative: 0.8 },
      predictedLabel: 'Negative',
    });
  });

  it.each([
    [
      'agreeing answers: consensus',
      [
        ['1', 'Positive'],
        ['2', 'Positive'],
      ],
      { value: 'Positive', source: 'consensus', agreement: 1 },
      false,
    ],
    [
      'a majority: consensus with its share',
      [
        ['1', 'Positive'],
        ['2', 'Positive'],
        ['3', 'Negative'],
      ],
      { value: 'Positive', source: 'consensus', agreement: 2 / 3 },
      false,
    ],
    [
      'a tie: review, no label',
      [
        ['1', 'Positive'],
        ['2', 'Negative'],
      ],
      undefined,
      true,
    ],
  ])('%s', (_name, answers, label, disputed) => {
    const annotations = answers.map(([user, value]) => ({ completed_by: Number(user), result: choice(value) }));
    const plan = fromLabelStudioTask(task({ annotations }), 0, labels, 'project-7', projectId, rules);
    expect(plan.label).toEqual(label);
    expect(plan.disputed).toBe(disputed);
    expect(plan.answers.map((a) => a.email)).toEqual(answers.map(([user]) => `label-studio-${user}@project-7.imported.invalid`));
  });

  it.each([
    ['a majority under the project’s threshold: review, no label', 0.75, undefined, true],
    ['the same majority at the threshold: consensus', 2 / 3, { value: 'Positive', source: 'consensus', agreement: 2 / 3 }, false],
  ])('%s', (_name, agreementThreshold, label, disputed) => {
    const annotations = ['Positive', 'Positive', 'Negative'].map((value, user) => ({ completed_by: user + 1, result: choice(value) }));
    const plan = fromLabelStudioTask(task({ annotations }), 0, labels, 'project-7', projectId, { agreementThreshold });
    expect(plan.label).toEqual(label);
    expect(plan.disputed).toBe(disputed);
  });

  it('lets a ground-truth annotation decide, skips cancelled ones, and keeps a rater’s latest answer', () => {
    const plan = fromLabelStudioTask(
      task({
        annotations: [
          { completed_by: { id: 4, email: 'Rita@Example.com' }, result: choice('Negative') },
          { completed_by: { id: 4, email: 'rita@example.com' }, result: choice('Positive') },
          { completed_by: 5, result: choice('Negative'), was_cancelled: true },
          { completed_by: 6, result: choice('Negative'), ground_truth: true },
        ],
      }),
      0,
      labels,
      'file',
      projectId,
      rules,
    );
    expect(plan.answers.map((a) => [a.email, a.label])).toEqual([
      ['rita@example.com', 'Positive'],
      ['label-studio-6@file.imported.invalid', 'Negative'],
    ]);
    expect(plan.label).toEqual({ value: 'Negative', source: 'review', agreement: 0.5 });
  });

  it('takes a kept label’s agreement only when it is a share (0 to 1), else the answers’ share', () => {
    const kept = (agreement: unknown) =>
      fromLabelStudioTask(
        task({
          annotations: [{ completed_by: 1, result: choice('Positive') }],
          meta: { backflow: { label: { value: 'Positive', source: 'consensus', agreement } } },
        }),
        0,
        labels,
        'file',
        projectId,
        rules,
      ).label;
    expect(kept(0.75)).toEqual({ value: 'Positive', source: 'consensus', agreement: 0.75 });
    expect(kept(5)).toEqual({ value: 'Positive', source: 'consensus', agreement: 1 });
    expect(kept(-1)).toEqual({ value: 'Positive', source: 'consensus', agreement: 1 });
    expect(kept('high')).toEqual({ value: 'Positive', source: 'consensus', agreement: 1 });
  });

  it.each([
    ['a year PostgreSQL cannot store', '-200000-01-01T00:00:00Z'],
    ['a year past 9999', '+012000-01-01T00:00:00Z'],
    ['no date at all', 'yesterday'],
  ])('stamps an answer dated %s with the import time, and drops it as the prediction’s time', (_name, createdAt) => {
    const before = Date.now();
    const plan = fromLabelStudioTask(
      task({ created_at: createdAt, annotations: [{ completed_by: 1, created_at: createdAt, result: choice('Positive') }] }),
      0,
      labels,
      'file',
      projectId,
      rules,
    );
    expect(plan.answers[0].createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(plan.prediction).not.toHaveProperty('timestamp');
  });
});

describe('fromLabelStudioTask: what Backflow cannot store is refused, naming the task and the result', () => {
  const textarea = { from_name: 'comment', to_name: 'text', type: 'textarea', value: { text: ['arrived broken'] } };
  it.each([
    [
      'several choices (a multi-choice answer), never only the first',
      [{ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: ['Positive', 'Negative'] } }],
      '4.annotations.1.result.0.value.choices',
      /task 4 \(Label Studio id 104\), annotation 1, result 0: 2 choices \["Positive","Negative"\]/,
    ],
    [
      'a textarea beside the choice, never dropped',
      [...choice('Positive'), textarea],
      '4.annotations.1.result.1.type',
      /task 4 \(Label Studio id 104\), annotation 1, result 1: a textarea result \(from_name "comment"\) cannot be stored/,
    ],
    ['a textarea alone', [textarea], '4.annotations.1.result.0.type', /annotation 1, result 0: a textarea result/],
    [
      'a second choices question',
      [...choice('Positive'), { from_name: 'topic', to_name: 'text', type: 'choices', value: { choices: ['Negative'] } }],
      '4.annotations.1.result.1',
      /result 1: a second choices result \(from_name "topic"\)/,
    ],
    [
      'a relation (a result without a value)',
      [{ type: 'relation', from_id: 'a', to_id: 'b' }],
      '4.annotations.1.result.0.type',
      /a relation result cannot be stored/,
    ],
  ])('%s', (_name, result, field, message) => {
    const annotations = [
      { completed_by: 1, result: choice('Positive') },
      { completed_by: 2, result },
    ];
    const refuse = () => fromLabelStudioTask(task({ id: 104, annotations }), 4, labels, 'file', projectId, rules);
    expect(refuse).toThrow(expect.objectContaining({ code: 'interop/unsupported_result', field, status: 400 }));
    expect(refuse).toThrow(message);
  });

  it('refuses a model prediction of several choices too', () => {
    const predictions = [{ model_version: 'v3', result: [{ type: 'choices', value: { choices: ['Positive', 'Negative'] } }] }];
    expect(() => fromLabelStudioTask(task({ predictions }), 0, labels, 'file', projectId, rules)).toThrow(
      expect.objectContaining({ code: 'interop/unsupported_result', field: '0.predictions.0.result.0.value.choices' }),
    );
  });

  it('names the result that holds a class the project does not have', () => {
    const result = [{ type: 'choices', value: { choices: [] } }, ...choice('Maybe')];
    expect(() => fromLabelStudioTask(task({ annotations: [{ completed_by: 1, result }] }), 2, labels, 'file', projectId, rules)).toThrow(
      expect.objectContaining({ code: 'interop/unknown_class', field: '2.annotations.0.result.1.value.choices.0' }),
    );
  });

  it('counts an empty or cancelled annotation as skipped, storing no answer for it', () => {
    const plan = fromLabelStudioTask(
      task({
        annotations: [
          { completed_by: 1, result: [] },
          { completed_by: 2, result: choice('Negative'), was_cancelled: true },
          { completed_by: 3, result: [{ type: 'choices', value: { choices: [] } }] },
          { completed_by: 4, result: choice('Positive') },
        ],
      }),
      5,
      labels,
      'file',
      projectId,
      rules,
    );
    expect(plan.answers.map((a) => a.label)).toEqual(['Positive']);
    expect(plan.skipped).toEqual([
      { at: '5.annotations.0', reason: 'empty' },
      { at: '5.annotations.1', reason: 'cancelled' },
      { at: '5.annotations.2', reason: 'empty' },
    ]);
  });

  it('reads nested data as features with dotted names', () => {
    const plan = fromLabelStudioTask(
      task({ data: { text: 'x', meta: { user: { age: 41 }, channel: 'app' }, turns: [{ who: 'A' }] } }),
      0,
      labels,
      'file',
      projectId,
      rules,
    );
    expect(plan.prediction.input).toEqual({ text: 'x', 'meta.user.age': 41, 'meta.channel': 'app', turns: '[{"who":"A"}]' });
  });
});

describe('a caller’s own prediction id through Label Studio', () => {
  it('goes out as the model server sent it and comes back keyed in the importing project', () => {
    const exported = toLabelStudioTask(
      1,
      {
        id: predictionKeyOf('11111111-1111-4111-8111-111111111111', 'req-1'),
        externalId: 'req-1',
        modelName: 'm',
        modelVersion: '1',
        input: { text: 'hi' },
        scores: { Positive: 0.6, Negative: 0.4 },
        predictedLabel: 'Positive',
        confidence: 0.6,
        slice: {},
        occurredAt: new Date('2026-12-01T00:00:00Z'),
        label: null,
        annotations: [],
      },
      { masked: [], raterNumber: () => 1 },
    );
    expect((exported.meta as { backflow: { predictionId: string } }).backflow.predictionId).toBe('req-1');
    const plan = fromLabelStudioTask(exported as never, 0, ['Positive', 'Negative'], 'file', projectId, rules);
    expect(plan.prediction.id).toBe('req-1');
    expect(plan.predictionId).toBe(predictionKeyOf(projectId, 'req-1'));
  });
});

describe('toLabelStudioTask and back', () => {
  it('keeps the prediction, its scores, answers and final label', () => {
    const exported = toLabelStudioTask(
      3,
      {
        id: '0f8b1c52-4d2e-4a8e-9c1e-2b7f0d9a6e31',
        externalId: null,
        modelName: 'm',
        modelVersion: '2',
        input: { text: 'x', secret: 's' },
        scores: { Positive: 0.3, Negative: 0.7 },
        predictedLabel: 'Negative',
        confidence: 0.7,
        slice: { country: 'FR' },
        occurredAt: new Date('2026-11-26T10:00:00Z'),
        label: { value: 'Positive', source: 'review', agreement: 0.5 },
        annotations: [
          { id: 'a', email: 'r1@example.com', label: 'Positive', timeSpentMs: 1500, createdAt: '2026-11-26T10:01:00Z' },
          { id: 'b', email: 'r2@example.com', label: 'Negative', timeSpentMs: null, createdAt: '2026-11-26T10:02:00Z' },
        ],
      },
      { masked: ['secret'], raterNumber: (email) => (email === 'r1@example.com' ? 1 : 2) },
    );
    expect(exported).toMatchObject({
      id: 3,
      data: { text: 'x' },
      annotations: [
        { completed_by: { id: 1 }, lead_time: 1.5, ground_truth: true },
        { completed_by: { id: 2 }, ground_truth: false },
      ],
    });
    const plan = fromLabelStudioTask(exported as never, 0, labels, 'file', 'p', rules);
    expect(plan.predictionId).toBe('0f8b1c52-4d2e-4a8e-9c1e-2b7f0d9a6e31');
    expect(plan.prediction).toMatchObject({
      model: { name: 'm', version: '2' },
      scores: { Positive: 0.3, Negative: 0.7 },
      slice: { country: 'FR' },
      timestamp: '2026-11-26T10:00:00.000Z',
    });
    expect(plan.answers.map((a) => [a.email, a.label, a.timeSpentMs])).toEqual([
      ['r1@example.com', 'Positive', 1500],
      ['r2@example.com', 'Negative', null],
    ]);
    expect(plan.label).toEqual({ value: 'Positive', source: 'review', agreement: 0.5 });
  });

  it('keeps the model’s choice where it is not the top score', () => {
    const thresholded = {
      id: '2a6c1f0e-8d3b-4c5a-9e7f-1b2c3d4e5f60',
      externalId: null,
      modelName: 'm',
      modelVersion: '1',
      input: { text: 'y' },
      scores: { Positive: 0.6, Negative: 0.4 },
      predictedLabel: 'Negative',
      confidence: 0.4,
      slice: {},
      occurredAt: new Date('2026-11-26T10:00:00Z'),
      label: null,
      annotations: [],
    };
    const plan = fromLabelStudioTask(toLabelStudioTask(1, thresholded, { masked: [], raterNumber: () => 1 }) as never, 0, labels, 'file', projectId, rules);
    expect(plan.prediction).toMatchObject({ scores: { Positive: 0.6, Negative: 0.4 }, predictedLabel: 'Negative' });
  });
});
