import { Questions } from '@backflow/questions';
import type { ExportedPrediction } from './label-studio-format';
import { fromLabelStudioTaskOfQuestions, toLabelStudioTaskOfQuestions } from './label-studio-kinds';

const BODY = 'Ada met 😀 Babbage';
const questions = Questions.parse([
  { name: 'topics', kind: 'multi_label', labels: [{ name: 'sports' }, { name: 'tech' }] },
  { name: 'quality', kind: 'rating', points: [1, 2, 3].map((value) => ({ value, name: `q${value}` })) },
  { name: 'note', kind: 'text', required: false },
  { name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }] },
]);
const project = { questions, routingQuestion: 'topics' };
const projectId = '11111111-1111-4111-8111-111111111111';
const rules = { agreementThreshold: 0.6 };
const task = (overrides: Record<string, unknown>) => ({ id: 1, data: { body: BODY }, annotations: [], predictions: [], ...overrides }) as never;
const read = (t: unknown, index = 0) => fromLabelStudioTaskOfQuestions(t as never, index, project, 'project-7', projectId, rules);

const ada = { topics: ['tech'], quality: 3, note: 'fine', ents: [{ start: 10, end: 17, label: 'PER' }] };
const bob = { topics: ['sports', 'tech'], quality: 2, ents: [] };

const prediction: ExportedPrediction = {
  id: '0f8b1c52-4d2e-4a8e-9c1e-2b7f0d9a6e31',
  externalId: null,
  modelName: 'm',
  modelVersion: '2',
  input: { body: BODY, secret: 's' },
  scores: { sports: 0.2, tech: 0.9 },
  suggestions: { quality: { value: 2.6, std: 0.4 }, ents: { spans: [{ start: 0, end: 3, label: 'PER', score: 0.4 }] } },
  predictedLabel: 'tech',
  confidence: 0.85,
  slice: { country: 'FR' },
  occurredAt: new Date('2026-11-26T10:00:00Z'),
  label: { value: 'tech', source: 'review', agreement: 0.5, answers: ada },
  annotations: [
    { id: 'a', email: 'r1@example.com', label: 'tech', timeSpentMs: 1500, createdAt: '2026-11-26T10:01:00Z', answers: ada },
    { id: 'b', email: 'r2@example.com', label: 'sports\ntech', timeSpentMs: null, createdAt: '2026-11-26T10:02:00Z', answers: bob },
  ],
};

describe('toLabelStudioTaskOfQuestions and back', () => {
  const exported = toLabelStudioTaskOfQuestions(3, prediction, project, { masked: ['secret'], raterNumber: (email) => (email === 'r1@example.com' ? 1 : 2) });

  it('writes every question as its result type, the model’s output as a prediction, the full output under meta', () => {
    expect(exported).toMatchObject({
      id: 3,
      data: { body: BODY },
      meta: {
        backflow: { predictionId: prediction.id, scores: prediction.scores, suggestions: prediction.suggestions, label: { source: 'review', answers: ada } },
      },
      predictions: [
        {
          model_version: 'm@2',
          score: 0.85,
          result: [
            { from_name: 'topics', type: 'choices', value: { choices: ['tech'] } },
            { from_name: 'quality', type: 'rating', value: { rating: 3 } },
            { from_name: 'ents', to_name: 'body', type: 'labels', value: { start: 0, end: 3, text: 'Ada', labels: ['PER'] }, score: 0.4 },
          ],
        },
      ],
      annotations: [
        { completed_by: { id: 1 }, lead_time: 1.5, ground_truth: true },
        {
          completed_by: { id: 2 },
          ground_truth: false,
          result: [expect.objectContaining({ value: { choices: ['sports', 'tech'] } }), expect.objectContaining({ value: { rating: 2 } })],
        },
      ],
    });
    expect((exported.data as Record<string, unknown>).secret).toBeUndefined();
    // the emoji is two UTF-16 code units: "Babbage" is 11–18 there, 10–17 in code points
    expect((exported.annotations as Array<{ result: unknown[] }>)[0].result).toContainEqual(
      expect.objectContaining({ type: 'labels', value: { start: 11, end: 18, text: 'Babbage', labels: ['PER'] } }),
    );
  });

  it('reads back the same prediction, answers and final label', () => {
    const plan = read(exported);
    expect(plan.predictionId).toBe(prediction.id);
    expect(plan.prediction).toMatchObject({
      model: { name: 'm', version: '2' },
      scores: prediction.scores,
      suggestions: prediction.suggestions,
      slice: { country: 'FR' },
    });
    expect(plan.answers.map((a) => [a.email, a.label, a.answers, a.timeSpentMs])).toEqual([
      ['r1@example.com', 'tech', ada, 1500],
      ['r2@example.com', 'sports\ntech', bob, null],
    ]);
    expect(plan.label).toEqual({ value: 'tech', source: 'review', agreement: 0.5, answers: ada });
  });
});

describe('fromLabelStudioTaskOfQuestions', () => {
  const answer = (user: number, topics: string[], quality: number, extra: unknown[] = []) => ({
    completed_by: user,
    result: [
      { from_name: 'topics', type: 'choices', value: { choices: topics } },
      { from_name: 'quality', type: 'rating', value: { rating: quality } },
      ...extra,
    ],
  });

  it('decides the label by the project’s consensus when Backflow kept none and no reviewer did', () => {
    const agreed = read(task({ annotations: [answer(1, ['tech'], 3), answer(2, ['tech'], 3)] }));
    expect(agreed.label).toEqual({ value: 'tech', source: 'consensus', agreement: 1, answers: { topics: ['tech'], quality: 3, ents: [] } });
    const split = read(task({ annotations: [answer(1, ['tech'], 3), answer(2, ['sports'], 1)] }));
    expect([split.label, split.disputed]).toEqual([undefined, true]);
    const reviewed = read(task({ annotations: [answer(1, ['tech'], 3), { ...answer(2, ['sports'], 1), ground_truth: true }] }));
    expect(reviewed.label).toEqual({ value: 'sports', source: 'review', agreement: 0.5, answers: { topics: ['sports'], quality: 1, ents: [] } });
  });

  it('reads the model’s output from its results: labels, a point, spans with their scores', () => {
    const plan = read(
      task({
        predictions: [
          {
            model_version: 'v3',
            result: [
              { from_name: 'topics', type: 'choices', value: { choices: ['sports'] } },
              { from_name: 'ents', type: 'labels', value: { start: 11, end: 18, text: 'Babbage', labels: ['PER'] }, score: 0.3 },
            ],
          },
        ],
      }),
    );
    expect(plan.prediction).toMatchObject({
      model: { name: 'label-studio', version: 'v3' },
      suggestions: { topics: { value: ['sports'] }, ents: { spans: [{ start: 10, end: 17, label: 'PER', score: 0.3 }] } },
    });
    expect(plan.prediction).not.toHaveProperty('scores');
  });

  it('stands "unknown" in for a missing model output where the kind has one, and refuses where it has none', () => {
    expect(read(task({})).prediction).toMatchObject({ scores: { sports: 0.5, tech: 0.5 } });
    const rated = { ...project, routingQuestion: 'quality' };
    expect(fromLabelStudioTaskOfQuestions(task({}), 0, rated, 'file', projectId, rules).prediction).toMatchObject({
      suggestions: { quality: { value: 2, interval: [1, 3] } },
    });
    const spanned = { ...project, routingQuestion: 'ents' };
    expect(() => fromLabelStudioTaskOfQuestions(task({ id: 9 }), 4, spanned, 'file', projectId, rules)).toThrow(
      expect.objectContaining({ code: 'interop/missing_prediction', field: '4.predictions', status: 400 }),
    );
  });

  it.each([
    [
      'a label the question does not have',
      answer(2, ['tech', 'art'], 3),
      'interop/invalid_answer',
      '2.annotations.0.result.0.value.choices.1',
      /task 2 \(Label Studio id 1\), annotation 0, result 0: "art" is not one of the question's labels/,
    ],
    [
      'a span counted in code points',
      answer(2, [], 3, [{ from_name: 'ents', type: 'labels', value: { start: 10, end: 17, text: 'Babbage', labels: ['PER'] } }]),
      'interop/invalid_answer',
      '2.annotations.0.result.2.value.text',
      /UTF-16/,
    ],
    [
      'a result for a question the project does not ask',
      answer(2, [], 3, [{ from_name: 'comment', type: 'textarea', value: { text: ['x'] } }]),
      'interop/unsupported_result',
      '2.annotations.0.result.2.from_name',
      /result 2: a textarea result \(from_name "comment"\) answers none of the project's questions/,
    ],
    [
      'a missing required answer',
      { completed_by: 1, result: [{ from_name: 'topics', type: 'choices', value: { choices: ['tech'] } }] },
      'interop/invalid_answer',
      '2.annotations.0.result',
      /annotation 0: question "quality": an answer is required/,
    ],
  ])('refuses %s, naming the task and the field', (_name, annotation, code, field, message) => {
    const refuse = () => read(task({ annotations: [annotation] }), 2);
    expect(refuse).toThrow(expect.objectContaining({ code, field, status: 400 }));
    expect(refuse).toThrow(message);
  });

  it('counts an empty or cancelled annotation as skipped', () => {
    const plan = read(task({ annotations: [{ completed_by: 1, result: [] }, { ...answer(2, ['tech'], 1), was_cancelled: true }, answer(3, ['tech'], 1)] }), 5);
    expect(plan.answers).toHaveLength(1);
    expect(plan.skipped).toEqual([
      { at: '5.annotations.0', reason: 'empty' },
      { at: '5.annotations.1', reason: 'cancelled' },
    ]);
  });
});
