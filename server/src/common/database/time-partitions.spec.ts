import { utcDay } from './time-partitions';

describe('utcDay', () => {
  it('is the UTC day of any instant, whatever was asked before', () => {
    const instants = [
      '2026-12-04T00:00:00.000Z',
      '2026-12-03T23:59:59.999Z',
      '2026-12-04T23:59:59.999Z',
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '2024-02-29T12:00:00+14:00',
      '2026-12-04T00:00:00.001Z',
      '0001-01-01T00:00:00.000Z',
    ].map((text) => new Date(text));
    for (const at of [...instants, ...instants.reverse()]) expect(utcDay(at)).toBe(at.toISOString().slice(0, 10));
  });

  it('refuses an invalid date as toISOString does', () => {
    expect(() => utcDay(new Date(Number.NaN))).toThrow(RangeError);
  });
});
