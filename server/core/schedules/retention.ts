import type { Keep, KeepRule } from '@/lib/contracts/schedules';

export interface Dated {
  id: string;
  createdAt: number;
}

/** The calendar parts of an instant in a time zone (24-hour clock). */
function parts(ms: number, tz: string): { y: number; m: number; d: number; h: number } {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour) };
}

/** ISO 8601 week of a calendar date: weeks start on Monday, week 1 holds the year's first Thursday. */
function isoWeek(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  const dow = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${week}`;
}

const buckets: Record<Exclude<KeepRule, 'last'>, (ms: number, tz: string) => string> = {
  hourly: (ms, tz) => {
    const p = parts(ms, tz);
    return `${p.y}-${p.m}-${p.d}T${p.h}`;
  },
  daily: (ms, tz) => {
    const p = parts(ms, tz);
    return `${p.y}-${p.m}-${p.d}`;
  },
  weekly: (ms, tz) => {
    const p = parts(ms, tz);
    return isoWeek(p.y, p.m, p.d);
  },
  monthly: (ms, tz) => {
    const p = parts(ms, tz);
    return `${p.y}-${p.m}`;
  },
};

/**
 * Which snapshots a retention keeps, as restic's `forget --keep-*` chooses: newest first, the
 * first `last`; and for each of hourly/daily/weekly/monthly, the newest snapshot of each of the
 * newest N hours (days, ...) that have one. A snapshot any rule keeps is kept. Buckets are read
 * in the schedule's time zone. Returns the kept ids, with the rules that keep each (for the log).
 */
export function selectKept(snaps: Dated[], keep: Keep, tz: string): Map<string, KeepRule[]> {
  const sorted = [...snaps].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const kept = new Map<string, KeepRule[]>();
  const add = (id: string, rule: KeepRule) => kept.set(id, [...(kept.get(id) ?? []), rule]);
  sorted.slice(0, keep.last ?? 0).forEach((s) => add(s.id, 'last'));
  for (const rule of Object.keys(buckets) as (keyof typeof buckets)[]) {
    let left = keep[rule] ?? 0;
    let lastKey: string | null = null;
    for (const s of sorted) {
      if (left <= 0) break;
      const key = buckets[rule](s.createdAt, tz);
      if (key === lastKey) continue;
      lastKey = key;
      left--;
      add(s.id, rule);
    }
  }
  return kept;
}
