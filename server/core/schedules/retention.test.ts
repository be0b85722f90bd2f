import { describe, expect, it } from 'vitest';
import { createScheduleBodySchema, keepSchema } from '@/lib/contracts/schedules';
import { selectKept } from './retention';

const at = (iso: string, id = iso) => ({ id, createdAt: Date.parse(iso) });
const kept = (snaps: { id: string; createdAt: number }[], keep: Parameters<typeof selectKept>[1], tz = 'UTC') => [...selectKept(snaps, keep, tz).keys()].sort();

describe('retention, as restic forget --keep-* chooses', () => {
  const hours = ['2026-03-01T10:05Z', '2026-03-01T10:40Z', '2026-03-01T11:10Z', '2026-03-01T11:50Z', '2026-03-01T12:30Z'].map((t) => at(t));

  it('keep last N: the newest N, whatever their order in the list', () => {
    expect(kept([...hours].reverse(), { last: 2 })).toEqual(['2026-03-01T11:50Z', '2026-03-01T12:30Z']);
    expect(kept(hours, { last: 10 })).toHaveLength(5);
  });

  it('hourly: the newest snapshot of each of the newest N hours that have one', () => {
    expect(kept(hours, { hourly: 2 })).toEqual(['2026-03-01T11:50Z', '2026-03-01T12:30Z']);
    expect(kept(hours, { hourly: 3 })).toEqual(['2026-03-01T10:40Z', '2026-03-01T11:50Z', '2026-03-01T12:30Z']);
  });

  it('rules add up: a snapshot any rule keeps is kept, with the rules that keep it', () => {
    const snaps = ['2026-01-30T08:00Z', '2026-02-10T08:00Z', '2026-02-27T08:00Z', '2026-02-28T08:00Z', '2026-02-28T09:00Z'].map((t) => at(t));
    const m = selectKept(snaps, { last: 1, daily: 2, monthly: 2 }, 'UTC');
    expect(m.get('2026-02-28T09:00Z')).toEqual(['last', 'daily', 'monthly']);
    expect(m.get('2026-02-27T08:00Z')).toEqual(['daily']);
    expect(m.get('2026-01-30T08:00Z')).toEqual(['monthly']);
    expect(m.has('2026-02-28T08:00Z')).toBe(false);
    expect(m.has('2026-02-10T08:00Z')).toBe(false);
  });

  it('weekly buckets are ISO weeks (Monday to Sunday), across a year end', () => {
    // Sun 2026-01-04 closes ISO week 1 of 2026; Mon 2025-12-29 opens it; Sun 2025-12-28 is week 52 of 2025.
    const snaps = ['2025-12-28T12:00Z', '2025-12-29T12:00Z', '2026-01-04T12:00Z', '2026-01-05T12:00Z'].map((t) => at(t));
    expect(kept(snaps, { weekly: 2 })).toEqual(['2026-01-04T12:00Z', '2026-01-05T12:00Z']);
    expect(kept(snaps, { weekly: 3 })).toEqual(['2025-12-28T12:00Z', '2026-01-04T12:00Z', '2026-01-05T12:00Z']);
  });

  it('days are counted in the schedule time zone', () => {
    // 23:30 UTC on the 1st and 00:30 UTC on the 2nd: two days in UTC, one (the 2nd) in Berlin.
    const snaps = [at('2026-01-01T23:30Z'), at('2026-01-02T00:30Z')];
    expect(kept(snaps, { daily: 2 }, 'UTC')).toHaveLength(2);
    expect(kept(snaps, { daily: 2 }, 'Europe/Berlin')).toEqual(['2026-01-02T00:30Z']);
  });
});

describe('schedule input', () => {
  const base = { machine: 'web', cron: '0 3 * * *', keep: { last: 3 } };
  const issues = (b: unknown) => {
    const r = createScheduleBodySchema.safeParse(b);
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('takes a cron with a time zone and a retention; the zone defaults to UTC', () => {
    expect(createScheduleBodySchema.parse(base)).toMatchObject({ timeZone: 'UTC' });
    expect(issues({ ...base, cron: '*/15 * * * *', timeZone: 'America/New_York', keep: { hourly: 24, daily: 7 } })).toEqual([]);
  });

  it('a cron that does not parse is refused, the field named', () => {
    for (const cron of ['not a cron', '61 * * * *', '* * * *', '0 3 * * 9'])
      expect(issues({ ...base, cron })).toEqual([{ path: 'cron', message: expect.stringMatching(/^not a cron expression: /) }]);
  });

  it('an unknown time zone is refused, the field named', () => {
    expect(issues({ ...base, timeZone: 'Mars/Olympus' })).toEqual([{ path: 'timeZone', message: expect.stringMatching(/not a time zone/) }]);
  });

  it('a retention that would keep nothing is refused, the field named', () => {
    expect(issues({ ...base, keep: {} })).toEqual([{ path: 'keep', message: expect.stringMatching(/would keep nothing/) }]);
    expect(issues({ ...base, keep: { last: 0, daily: 0 } })).toEqual([{ path: 'keep', message: expect.stringMatching(/would keep nothing/) }]);
    expect(keepSchema.safeParse({ yearly: 2 }).success).toBe(false);
  });

  it('one of machine and tag', () => {
    expect(issues({ cron: '0 3 * * *', keep: { last: 1 } })).toEqual([{ path: 'machine', message: expect.stringMatching(/machine or a tag/) }]);
    expect(issues({ ...base, tag: 'web' })).toEqual([{ path: 'machine', message: expect.stringMatching(/machine or a tag/) }]);
  });
});
