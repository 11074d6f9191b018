import { argmax, validatePrediction } from './prediction-validation';

const project = { labels: ['ham', 'spam', 'eggs'], taskType: 'single_label' as const };
const id = () => '00000000-0000-4000-8000-000000000000';
const valid = { model: { name: 'm', version: '3' }, input: { subject: 'hi', length: 2, tags: ['a', 'b'], urgent: false }, scores: { ham: 0.7, spam: 0.2, eggs: 0.1 } };

describe('validatePrediction', () => {
  it('accepts a prediction, takes the argmax and its confidence, and stamps it', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    const verdict = validatePrediction(valid, project, id, now);
    expect(verdict).toEqual({
      ok: true,
      row: expect.objectContaining({ id: id(), predictedLabel: 'ham', confidence: 0.7, slice: {}, metadata: null, occurredAt: now, modelVersion: '3' }),
    });
  });

  it('keeps an explicit predicted label with its own score as confidence', () => {
    const verdict = validatePrediction({ ...valid, predictedLabel: 'spam' }, project, id);
    expect(verdict.ok && verdict.row).toMatchObject({ predictedLabel: 'spam', confidence: 0.2 });
  });

  it.each([
    [{ ...valid, scores: { ham: -0.2, spam: 1.2 } }, 'predictions/invalid_scores', 'scores.ham'],
    [{ ...valid, scores: { ham: 0.9, spam: 0.9 } }, 'predictions/scores_not_normalized', 'scores'],
    [{ ...valid, scores: { ham: 0.5, bacon: 0.5 } }, 'predictions/unknown_label', 'scores.bacon'],
    [{ ...valid, scores: {} }, 'predictions/invalid_scores', 'scores'],
    [{ ...valid, predictedLabel: 'bacon' }, 'predictions/unknown_label', 'predictedLabel'],
    [{ ...valid, model: { name: 'm' } }, 'validation/invalid', 'model.version'],
    [{ ...valid, model: { name: 'm', version: '  ' } }, 'validation/invalid', 'model.version'],
    [{ ...valid, id: 'not-a-uuid' }, 'validation/invalid', 'id'],
    [{ ...valid, input: { nested: { deep: 1 } } }, 'validation/invalid', 'input.nested'],
    [{ ...valid, slice: { country: 3 } }, 'validation/invalid', 'slice.country'],
    [{ ...valid, timestamp: 'yesterday' }, 'validation/invalid', 'timestamp'],
    [{ ...valid, timestamp: '2999-01-01T00:00:00Z' }, 'predictions/timestamp_in_future', 'timestamp'],
    [{ ...valid, extra: 1 }, 'validation/invalid', 'extra'],
    [[valid], 'validation/invalid', 'body'],
    [null, 'validation/invalid', 'body'],
  ])('rejects %j with %s at %s', (raw, code, field) => {
    const verdict = validatePrediction(raw, project, id);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.rejection).toMatchObject({ code, field, message: expect.stringContaining(field) });
  });

  it('tolerates rounding in the sum of scores', () => {
    expect(validatePrediction({ ...valid, scores: { ham: 0.3333, spam: 0.3333, eggs: 0.3333 } }, project, id).ok).toBe(true);
  });
});

describe('argmax', () => {
  it.each([
    [{ ham: 0.2, spam: 0.8 }, 'spam'],
    [{ ham: 0.5, spam: 0.5 }, 'ham'],
    [{ spam: 0.5, ham: 0.5 }, 'ham'],
    [{ eggs: 1 }, 'eggs'],
  ])('of %j is %s', (scores, label) => {
    expect(argmax(scores, ['ham', 'spam', 'eggs'])).toBe(label);
  });
});
