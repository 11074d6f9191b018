import { SpansQuestion, type Span } from '../definitions';
import { sortSpans, spansKind } from './spans';

const ents = SpansQuestion.parse({ name: 'ents', kind: 'spans', field: 'body', labels: [{ name: 'PER' }, { name: 'ORG' }, { name: 'LOC' }] });
const flat = { ...ents, allowOverlap: false };
const span = (start: number, end: number, label: string): Span => ({ start, end, label });

// 'a😀b': three code points, four UTF-16 units (the emoji is a surrogate pair)
const astral = { input: { body: 'a😀b' } };

describe('span offsets', () => {
  it('count code points, not UTF-16 units', () => {
    expect('a😀b'.length).toBe(4);
    expect(spansKind.answer(ents, [span(0, 3, 'PER')], astral)).toEqual({ ok: true, value: [span(0, 3, 'PER')] });
    expect(spansKind.answer(ents, [span(1, 2, 'PER')], astral)).toEqual({ ok: true, value: [span(1, 2, 'PER')] });
    expect(spansKind.answer(ents, [span(0, 4, 'PER')], astral)).toEqual({
      ok: false,
      issue: { path: [0, 'end'], message: 'past the end of "body" (3 characters)' },
    });
  });

  it('are checked against the field only when the input is known', () => {
    expect(spansKind.answer(ents, [span(0, 40, 'PER')]).ok).toBe(true);
    expect(spansKind.answer(ents, [span(0, 1, 'PER')], { input: { title: 'x' } })).toEqual({
      ok: false,
      issue: { path: [], message: 'the input has no text field "body" to mark spans in' },
    });
    expect(spansKind.answer(ents, [], { input: { body: 7 } }).ok).toBe(false);
  });
});

describe('spans answers', () => {
  it.each([
    ['a negative start', [{ start: -1, end: 2, label: 'PER' }], [0, 'start']],
    ['a fractional start', [{ start: 0.5, end: 2, label: 'PER' }], [0, 'start']],
    ['an empty span', [span(0, 1, 'PER'), span(2, 2, 'PER')], [1, 'end']],
    ['an end before the start', [span(2, 1, 'PER')], [0, 'end']],
    ['an unknown label', [span(0, 1, 'PER'), span(1, 2, 'DATE')], [1, 'label']],
    ['a score (answers carry none)', [{ start: 0, end: 1, label: 'PER', score: 0.9 }], [0, 'score']],
    ['a span listed twice', [span(0, 1, 'PER'), span(0, 1, 'ORG'), span(0, 1, 'PER')], [2]],
    ['a span that is no object', [span(0, 1, 'PER'), [0, 1, 'PER']], [1]],
    ['no list', span(0, 1, 'PER'), []],
  ])('refuses %s at %j', (_what, raw, path) => {
    const checked = spansKind.answer(ents, raw, { input: { body: 'Ada met Bob' } });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issue.path).toEqual(path);
  });

  it('returns the spans sorted by start, then end, then the label order of the question', () => {
    const raw = [span(2, 3, 'PER'), span(0, 2, 'ORG'), span(0, 2, 'PER'), span(0, 1, 'LOC'), span(0, 2, 'LOC')];
    expect(spansKind.answer(ents, raw)).toEqual({
      ok: true,
      value: [span(0, 1, 'LOC'), span(0, 2, 'PER'), span(0, 2, 'ORG'), span(0, 2, 'LOC'), span(2, 3, 'PER')],
    });
    expect(sortSpans(ents, [span(5, 6, 'LOC'), span(5, 6, 'PER')])).toEqual([span(5, 6, 'PER'), span(5, 6, 'LOC')]);
  });

  it('takes overlapping spans unless the question forbids it', () => {
    expect(spansKind.answer(ents, [span(0, 5, 'PER'), span(3, 8, 'ORG')]).ok).toBe(true);
    expect(spansKind.answer(ents, [span(0, 5, 'PER'), span(0, 5, 'ORG')]).ok).toBe(true);
    // the overlapping span is reported at its place in the list given: [5, 8) is first there
    expect(spansKind.answer(flat, [span(5, 8, 'PER'), span(0, 6, 'ORG')])).toEqual({
      ok: false,
      issue: { path: [0], message: 'spans overlap at 5; the question allows no overlap' },
    });
    // one span inside another, separated in start order by a third
    expect(spansKind.answer(flat, [span(0, 10, 'PER'), span(3, 4, 'ORG'), span(1, 2, 'LOC')]).ok).toBe(false);
    expect(spansKind.answer(flat, [span(0, 5, 'PER'), span(0, 5, 'ORG')]).ok).toBe(false);
    // touching is not overlapping: end is exclusive
    expect(spansKind.answer(flat, [span(5, 8, 'PER'), span(0, 5, 'ORG')])).toEqual({ ok: true, value: [span(0, 5, 'ORG'), span(5, 8, 'PER')] });
  });
});

describe('spans suggestions and uncertainty', () => {
  it('take scored spans, checked like answers', () => {
    const raw = {
      spans: [
        { start: 6, end: 9, label: 'ORG', score: 0.6 },
        { start: 0, end: 5, label: 'PER' },
      ],
    };
    expect(spansKind.suggestion(ents, raw, { input: { body: 'Ada, Bob & Co' } })).toEqual({ ok: true, value: raw });
    expect(spansKind.suggestion(ents, { spans: [{ start: 0, end: 1, label: 'PER', score: 1.5 }] })).toEqual({
      ok: false,
      issue: { path: ['spans', 0, 'score'], message: 'a probability in [0, 1]' },
    });
    expect(spansKind.suggestion(ents, { spans: [span(0, 4, 'PER')] }, astral)).toMatchObject({ ok: false, issue: { path: ['spans', 0, 'end'] } });
    expect(spansKind.suggestion(ents, { spans: [], scores: {} })).toMatchObject({ ok: false, issue: { path: ['scores'] } });
  });

  it('is 1 − the least span score; unscored spans and no spans are certain', () => {
    const spans = [{ ...span(0, 5, 'PER'), score: 0.9 }, { ...span(6, 9, 'ORG'), score: 0.6 }, span(10, 12, 'LOC')];
    expect(spansKind.uncertainty(ents, { spans }, 'entropy')).toBeCloseTo(0.4, 12);
    expect(spansKind.confidence(ents, { spans })).toBe(0.6);
    expect(spansKind.uncertainty(ents, { spans: [span(0, 5, 'PER')] }, 'entropy')).toBe(0);
    expect(spansKind.uncertainty(ents, { spans: [] }, 'entropy')).toBe(0);
  });

  it('predict the spans without their scores, sorted', () => {
    const spans = [{ ...span(6, 9, 'ORG'), score: 0.6 }, span(0, 5, 'PER')];
    expect(spansKind.predicted(ents, { spans })).toEqual([span(0, 5, 'PER'), span(6, 9, 'ORG')]);
  });
});

describe('spans consensus', () => {
  it('keeps the code points a majority marked with a label', () => {
    // PER at 0..4 by all three (5 kept); ORG at 6..8 by one (3 marked, none kept): 5 / 8
    const answers = [[span(0, 5, 'PER')], [span(0, 5, 'PER'), span(6, 9, 'ORG')], [span(0, 5, 'PER')]];
    expect(spansKind.consensus(ents, answers, 0.6)).toEqual({ decided: true, value: [span(0, 5, 'PER')], agreement: 5 / 8 });
    expect(spansKind.consensus(ents, answers, 0.7)).toEqual({ decided: false, agreement: 5 / 8 });
  });

  it('keeps only the part of overlapping spans a majority shares', () => {
    // PER counts by position: 0:1 1:1 2:2 3:3 4:2 5:1 → 2, 3, 4 kept of 6 marked
    const answers = [[span(0, 4, 'PER')], [span(2, 6, 'PER')], [span(3, 5, 'PER')]];
    expect(spansKind.consensus(ents, answers, 0.5)).toEqual({ decided: true, value: [span(2, 5, 'PER')], agreement: 0.5 });
  });

  it('merges adjacent kept runs of a label into one span', () => {
    // [0, 3) + [3, 5) by one rater and [0, 5) by another mark the same five points
    const answers = [[span(0, 3, 'PER'), span(3, 5, 'PER')], [span(0, 5, 'PER')], []];
    expect(spansKind.consensus(ents, answers, 1)).toEqual({ decided: true, value: [span(0, 5, 'PER')], agreement: 1 });
  });

  it('counts a rater once per point even when their own spans overlap', () => {
    // rater 1 marks 0..4 twice over: still one vote each, so 1 of 3 → nothing kept
    const answers = [[span(0, 5, 'PER'), span(2, 4, 'PER')], [], []];
    expect(spansKind.consensus(ents, answers, 0)).toEqual({ decided: true, value: [], agreement: 0 });
  });

  it('needs more than half: two raters of four are not a majority', () => {
    const answers = [[span(0, 2, 'PER')], [span(0, 2, 'PER')], [], []];
    // 2 of 4 marked 0..1: not kept; agreement 0 of 2
    expect(spansKind.consensus(ents, answers, 0)).toEqual({ decided: true, value: [], agreement: 0 });
  });

  it('keeps labels apart and returns the spans in export order', () => {
    const answers = [
      [span(4, 6, 'LOC'), span(0, 2, 'ORG'), span(0, 2, 'PER')],
      [span(0, 2, 'ORG'), span(0, 2, 'PER'), span(4, 6, 'LOC')],
    ];
    expect(spansKind.consensus(ents, answers, 1)).toEqual({ decided: true, value: [span(0, 2, 'PER'), span(0, 2, 'ORG'), span(4, 6, 'LOC')], agreement: 1 });
  });

  it('agrees fully when nobody marked anything, and not at all with no answers', () => {
    expect(spansKind.consensus(ents, [[], []], 1)).toEqual({ decided: true, value: [], agreement: 1 });
    expect(spansKind.consensus(ents, [], 0)).toEqual({ decided: false, agreement: 0 });
  });

  it('measures agreement by span F1 and exports three parallel lists', () => {
    expect(spansKind.agreement(ents)).toEqual({ kind: 'span_f1' });
    const answer = [span(0, 5, 'PER'), span(0, 5, 'LOC'), span(6, 9, 'ORG')];
    expect(spansKind.columns(ents).map((c) => [c.name, c.type, c.list, c.domain, c.values(answer)])).toEqual([
      ['ents_start', 'int', true, undefined, [0, 0, 6]],
      ['ents_end', 'int', true, undefined, [5, 5, 9]],
      ['ents_label', 'int', true, { min: 0, max: 2 }, [0, 2, 1]],
    ]);
  });
});
