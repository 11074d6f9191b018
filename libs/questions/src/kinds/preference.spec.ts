import { Question } from '../definitions';
import { Questions } from '../questions';
import { leftOf, preferenceKind as kind } from './preference';

const question = Question.parse({ name: 'better', kind: 'preference', of: 'reply' }) as Extract<Question, { kind: 'preference' }>;

describe('preference questions', () => {
  it('compare two responses of a generation question of the same project', () => {
    expect(
      Questions.safeParse([
        { name: 'reply', kind: 'generation' },
        { name: 'better', kind: 'preference', of: 'reply' },
      ]).success,
    ).toBe(true);
    const wrong = Questions.safeParse([
      { name: 'note', kind: 'text' },
      { name: 'better', kind: 'preference', of: 'note' },
    ]);
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0].path).toEqual([1, 'of']);
  });

  it('take the better response and the side shown, by response; the model suggests nothing', () => {
    expect(kind.answer(question, { preferred: 'second', left: 'second' })).toEqual({ ok: true, value: { preferred: 'second', left: 'second' } });
    expect(kind.answer(question, { preferred: 'left', left: 'first' })).toMatchObject({ ok: false, issue: { path: ['preferred'] } });
    expect(kind.answer(question, { preferred: 'tie', left: 'middle' })).toMatchObject({ ok: false, issue: { path: ['left'] } });
    expect(kind.answer(question, { preferred: 'tie', left: 'first', why: 'x' })).toMatchObject({ ok: false, issue: { path: ['why'] } });
    expect(kind.suggestion(question, {}).ok).toBe(false);
    expect(kind.predicted(question, undefined as never)).toBeUndefined();
    expect(kind.columns(question).map((c) => [c.name, c.values({ preferred: 'both_bad', left: 'second' })])).toEqual([
      ['better', ['both_bad']],
      ['better_left', ['second']],
    ]);
  });

  it('decide by majority, a tie of preferences undecided', () => {
    const first = { preferred: 'first', left: 'second' } as const;
    const tie = { preferred: 'tie', left: 'second' } as const;
    expect(kind.consensus(question, [first, first, tie], 0.6)).toEqual({ decided: true, value: first, agreement: 2 / 3 });
    expect(kind.consensus(question, [first, tie], 0.5).decided).toBe(false);
  });

  it('draws the side per task, about half each way, the same every time', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const firstLeft = ids.filter((id) => leftOf(id) === 'first').length;
    expect(firstLeft).toBeGreaterThan(900);
    expect(firstLeft).toBeLessThan(1_100);
    expect(ids.map(leftOf)).toEqual(ids.map(leftOf));
  });
});
