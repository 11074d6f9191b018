import { argmaxLabel as argmax, legacyQuestions } from '@backflow/questions';
import { predictionKeyOf } from '../common/ids/prediction-key';
import { validatePrediction, type ProjectLabels } from './prediction-validation';

const questions = legacyQuestions([{ name: 'ham' }, { name: 'spam' }, { name: 'eggs' }]);
const project: ProjectLabels = { projectId: '0f8d5c1e-3b2a-4c6d-9e7f-1a2b3c4d5e6f', labels: ['ham', 'spam', 'eggs'], questions, routing: questions[0] };
const id = () => '00000000-0000-4000-8000-000000000000';
const valid = {
  model: { name: 'm', version: '3' },
  input: { subject: 'hi', length: 2, tags: ['a', 'b'], urgent: false },
  scores: { ham: 0.7, spam: 0.2, eggs: 0.1 },
};

describe('validatePrediction', () => {
  it('accepts a prediction, takes the argmax and its confidence, and stamps it', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    const verdict = validatePrediction(valid, project, id, now);
    expect(verdict).toEqual({
      ok: true,
      row: expect.objectContaining({ id: id(), predictedLabel: 'ham', confidence: 0.7, slice: {}, metadata: null, occurredAt: now, modelVersion: '3' }),
    });
  });

  it('keys a caller’s own id by its UUID version 5 in the project, keeping the id as sent; a UUID is its own key', () => {
    const own = validatePrediction({ ...valid, id: 'req-8f3a' }, project, id);
    expect(own.ok && own.row).toMatchObject({ id: predictionKeyOf(project.projectId, 'req-8f3a'), externalId: 'req-8f3a' });
    const uuid = '6f1c9a57-2b8e-4d0a-9c3f-5e7b1d2a4c60';
    expect(validatePrediction({ ...valid, id: uuid }, project, id)).toMatchObject({ ok: true, row: { id: uuid, externalId: null } });
    expect(validatePrediction({ ...valid, id: uuid.toUpperCase() }, project, id)).toMatchObject({
      ok: true,
      row: { id: uuid, externalId: uuid.toUpperCase() },
    });
    expect(validatePrediction(valid, project, id)).toMatchObject({ ok: true, row: { id: id(), externalId: null } });
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
    [{ ...valid, id: 'not a request id' }, 'validation/invalid', 'id'],
    [{ ...valid, id: 'r'.repeat(129) }, 'validation/invalid', 'id'],
    [{ ...valid, id: '' }, 'validation/invalid', 'id'],
    [{ ...valid, id: 'req-é' }, 'validation/invalid', 'id'],
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

  // found by the fuzzer (test/e2e/fuzz.e2e-spec.ts): each gave a 500, or was stored changed, before
  const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  it.each([
    ['a lone surrogate in a feature', { ...valid, input: { subject: 'a\ud800' } }, 'validation/invalid_text', 'input.subject'],
    ['a lone surrogate in the model name', { ...valid, model: { name: 'm\udc00', version: '1' } }, 'validation/invalid_text', 'model.name'],
    ['a NUL in a list feature', { ...valid, input: { tags: ['a', 'b\u0000'] } }, 'validation/invalid_text', 'input.tags.1'],
    ['a NUL in a feature name', { ...valid, input: { 'x\u0000': 1 } }, 'validation/invalid_text', 'input.x\u0000'],
    ['a NUL in metadata', { ...valid, metadata: { note: { text: '\u0000' } } }, 'validation/invalid_text', 'metadata.note.text'],
    ['the year 0', { ...valid, timestamp: '0000-01-01T00:00:00Z' }, 'validation/date_out_of_range', 'timestamp'],
    ['the year 1 that is the year 0 in UTC', { ...valid, timestamp: '0001-01-01T00:00:00+01:00' }, 'validation/date_out_of_range', 'timestamp'],
    ['metadata nested 5,000 deep', { ...valid, metadata: nested(5_000) }, 'validation/too_deep', 'metadata'],
    ['metadata nested 33 deep', { ...valid, metadata: nested(33) }, 'validation/too_deep', 'metadata'],
    ['an integer feature past 2^53', { ...valid, input: { big: 2 ** 53 } }, 'predictions/unsafe_integer', 'input.big'],
    ['a list feature holding 2^60', { ...valid, input: { vec: [1, 2 ** 60] } }, 'predictions/unsafe_integer', 'input.vec.1'],
    ['a negative integer past -(2^53 - 1)', { ...valid, input: { low: -(2 ** 53) - 2 } }, 'predictions/unsafe_integer', 'input.low'],
    ['1e20 in metadata', { ...valid, metadata: { counts: [1e20] } }, 'predictions/unsafe_integer', 'metadata.counts.0'],
  ])('refuses %s', (_name, raw, code, field) => {
    const verdict = validatePrediction(raw, project, id);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.rejection).toMatchObject({ code, field: expect.stringContaining(field), message: expect.stringContaining(field) });
  });

  it('skips the text check when the raw text showed there is nothing to find', () => {
    expect(validatePrediction({ ...valid, input: { subject: 'a\ud800' } }, project, id, new Date(), { valuesChecked: true }).ok).toBe(true);
  });

  it('keeps the largest safe integers, metadata 32 deep, and the edges of the year range', () => {
    for (const raw of [
      { ...valid, input: { big: Number.MAX_SAFE_INTEGER, low: Number.MIN_SAFE_INTEGER, tiny: 5e-324 } },
      { ...valid, metadata: nested(32) },
      { ...valid, timestamp: '0001-01-01T00:00:00Z' },
      { ...valid, input: { emoji: '🙂', rtl: '\u202eabc' } },
    ]) {
      expect(validatePrediction(raw, project, id)).toMatchObject({ ok: true });
    }
  });

  describe('features with a declared export type', () => {
    const typed = {
      ...project,
      features: [
        { name: 'count', type: 'int' as const },
        { name: 'score', type: 'float' as const },
        { name: 'text', type: 'bytes' as const },
      ],
    };
    it.each([
      ['a fraction for an int', { count: 2.5 }, 'input.count'],
      ['a string for an int', { count: '3' }, 'input.count'],
      ['a fraction in an int list', { count: [3, 1.25] }, 'input.count.1'],
      ['a string for a float', { score: 'high' }, 'input.score'],
    ])('refuses %s with predictions/feature_type_mismatch', (_name, input, field) => {
      const verdict = validatePrediction({ ...valid, input }, typed, id);
      expect(verdict).toMatchObject({ ok: false, rejection: { code: 'predictions/feature_type_mismatch', field } });
    });

    it('accepts what fits: whole numbers and booleans for an int, any number for a float (past 2^53 too), anything for bytes', () => {
      const input = { count: [3, true, -7], score: [1, 0.5, 1e20], text: [1.5, 'x', false], undeclared: 'free' };
      expect(validatePrediction({ ...valid, input }, typed, id)).toMatchObject({ ok: true });
    });
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
