import { consecutiveHours } from './prediction-rollups';

const at = (iso: string) => new Date(iso);

describe('consecutiveHours: the late hours rolled again, as few ranges as hold exactly them', () => {
  it('joins consecutive hours, in any order, and keeps gaps apart', () => {
    const hours = ['2026-11-03T05:00:00Z', '2026-11-03T03:00:00Z', '2026-11-03T04:00:00Z', '2026-11-03T08:00:00Z'].map(at);
    expect(consecutiveHours(hours)).toEqual([
      { from: at('2026-11-03T03:00:00Z'), to: at('2026-11-03T06:00:00Z') },
      { from: at('2026-11-03T08:00:00Z'), to: at('2026-11-03T09:00:00Z') },
    ]);
  });

  it('ends a range at midnight, so each reads one day', () => {
    const hours = ['2026-11-03T22:00:00Z', '2026-11-03T23:00:00Z', '2026-11-04T00:00:00Z', '2026-11-04T01:00:00Z'].map(at);
    expect(consecutiveHours(hours)).toEqual([
      { from: at('2026-11-03T22:00:00Z'), to: at('2026-11-04T00:00:00Z') },
      { from: at('2026-11-04T00:00:00Z'), to: at('2026-11-04T02:00:00Z') },
    ]);
  });

  it('gives nothing for no hours, and one range for one', () => {
    expect(consecutiveHours([])).toEqual([]);
    expect(consecutiveHours([at('2026-11-03T03:00:00Z')])).toEqual([{ from: at('2026-11-03T03:00:00Z'), to: at('2026-11-03T04:00:00Z') }]);
  });
});
