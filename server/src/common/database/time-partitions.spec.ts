import { instantOf, isoInstant, utcDay } from './time-partitions';

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

describe('isoInstant', () => {
  it('writes what toISOString writes, before 1970 and after, at the ends of days and of the years Backflow keeps', () => {
    const instants = [
      0,
      -1,
      1,
      86_399_999,
      86_400_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(1969, 11, 31, 23, 59, 59, 1),
      Date.UTC(1, 0, 1, 0, 0, 0, 0),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(1900, 5, 15, 7, 8, 9, 10),
    ];
    // and a spread of instants from year 1 to 9999, in an order that leaves the day cache behind and comes back to it
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      instants.push(Math.floor((seed / 2 ** 31) * (Date.UTC(9999, 11, 31) - Date.UTC(1, 0, 1))) + Date.UTC(1, 0, 1));
      if (i % 3 === 0) instants.push(instants[instants.length - 1] + (seed % 1000));
    }
    for (const at of instants) expect(isoInstant(new Date(at))).toBe(new Date(at).toISOString());
  });

  it('refuses an invalid date as toISOString does', () => {
    expect(() => isoInstant(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('instantOf', () => {
  const same = (text: string) => expect(String(instantOf(text).getTime())).toBe(String(new Date(text).getTime()));

  it('reads what the date parser reads, in the form toISOString writes and in every other', () => {
    let seed = 987654321;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const at = Math.floor((seed / 2 ** 31) * (Date.UTC(9999, 11, 31) - Date.UTC(100, 0, 1))) + Date.UTC(100, 0, 1);
      const text = new Date(at).toISOString();
      expect(instantOf(text).getTime()).toBe(at);
    }
    for (const text of [
      '2026-12-06T10:11:12.345Z',
      '2024-02-29T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '0100-03-01T00:00:00.000Z',
      '0050-01-01T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      // days that do not exist, and the ends of a day: whatever the parser makes of them
      '2026-02-30T00:00:00.000Z',
      '2023-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-01-32T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-01T00:00:00.000Z',
      '2026-12-06T24:00:00.000Z',
      '2026-12-06T23:60:00.000Z',
      '2026-12-06T23:59:60.000Z',
      // not the canonical form: an offset, other precisions, signs, letters where digits go
      '2026-12-06T10:11:12.345+02:00',
      '2026-12-06T10:11:12Z',
      '2026-12-06T10:11:12.3456Z',
      '2026-12-06T10:11:12.34Z',
      '+02026-12-06T10:11:12.345Z',
      '2026-12-06T10:11:1a.345Z',
      '2026-1x-06T10:11:12.345Z',
      '2026-12-06t10:11:12.345Z',
      '2026-12-06T10:11:12.-45Z',
    ])
      same(text);
  });
});
