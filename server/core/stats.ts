import type { Store } from '@/db/client';
import { listMachineRowsInStates } from '@/db/repo/machines';
import type { HostStatsTick, MachineStatsSample, MachineStatsTick } from '@/lib/contracts/stats';
import type { MachineRow } from '@/db/repo/machines';
import type { MachineCounters, MachineDriver, MachineSpec } from '@/server/drivers/types';
import type { EventBus } from './events';
import { hostCpuTimes, hostMemory, loadavg, type CpuTimes } from './host-usage';
import { RefCounts } from './ref-counts';

export const STATS_INTERVAL_MS = 2000;
/** Samples kept per machine: six minutes at one every 2 s. */
export const STATS_HISTORY = 180;

/** A reading older than this gives no rate (the machine was stopped, nobody watched, its agent was busy for long). */
const MAX_GAP_MS = 5 * STATS_INTERVAL_MS;

/** The last reading of each counter of a machine, with when it was taken (a counter may be missing from some readings). */
export type Readings = Partial<Record<keyof MachineCounters, { at: number; v: number }>>;

/** Per-second rate of a counter since its last reading; a counter that went back (a process restarted) counts as no traffic. */
export function rate(prev: { at: number; v: number } | undefined, cur: number | undefined, at: number): number | null {
  if (cur === undefined || !prev || at <= prev.at || at - prev.at > MAX_GAP_MS) return null;
  return (Math.max(0, cur - prev.v) * 1000) / (at - prev.at);
}

/** One sample at `at` from this reading and the last one of each counter (a first reading gives levels but no rates). */
export function sampleFrom(at: number, cpus: number, prev: Readings, cur: MachineCounters): MachineStatsSample {
  const cpu = rate(prev.cpuNs, cur.cpuNs, at);
  const r = (k: keyof MachineCounters) => {
    const v = rate(prev[k], cur[k], at);
    return v === null ? null : Math.round(v);
  };
  return {
    t: at,
    // Of the CPUs it was given; a machine given none (an adopted server) says how many it has.
    cpuPct: cpu === null ? null : Math.round((cpu / 1e9 / Math.max(1, cpus > 0 ? cpus : (cur.cpus ?? 1))) * 1000) / 10,
    memBytes: cur.memBytes ?? null,
    memLimitBytes: cur.memLimitBytes ?? null,
    guestMemBytes: cur.guestMemBytes ?? null,
    diskReadBps: r('diskReadBytes'),
    diskWriteBps: r('diskWriteBytes'),
    diskUsedBytes: cur.diskUsedBytes ?? null,
    netRxBps: r('netRxBytes'),
    netTxBps: r('netTxBytes'),
  };
}

/** The readings after `cur`: its counters replace the older ones, the counters it lacks keep theirs. */
export function remember(prev: Readings, cur: MachineCounters, at: number): Readings {
  const next: Readings = { ...prev };
  for (const [k, v] of Object.entries(cur) as [keyof MachineCounters, number | undefined][]) if (v !== undefined) next[k] = { at, v };
  return next;
}

/**
 * Live figures of running machines and of the host, sampled every 2 s while anyone has the
 * dashboard open (no audience, no sampling): pushed over /events as one message per tick and
 * kept for six minutes per machine, so a page opened later draws its graphs at once. A VM's
 * guest-side figures (network, memory in use) are asked of its agent only while someone
 * watches that machine's page.
 */
export class StatsService {
  private readonly history = new Map<string, MachineStatsSample[]>();
  private readonly last = new Map<string, Readings>();
  private readonly watchers = new RefCounts<string>();
  private hostLast: { at: number; cpu: CpuTimes } | null = null;
  private hostTicks: HostStatsTick[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private lastTickAt = 0;
  /** A Prometheus scrape keeps sampling on (with no one on the dashboard) until then. */
  private scrapedUntil = 0;
  /** Someone is connected to /events (set by that namespace). */
  audience: () => boolean = () => false;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly machines: { toSpec(row: MachineRow): MachineSpec; driver(kind: MachineRow['driver']): MachineDriver },
  ) {
    bus.subscribe('machine:removed', ({ id }) => {
      this.history.delete(id);
      this.last.delete(id);
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), STATS_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A viewer of this machine's page: its guest-side figures are sampled too until the returned function is called. */
  watch(machineId: string): () => void {
    return this.watchers.take(machineId);
  }

  /** The samples kept for a machine, oldest first. */
  historyOf(machineId: string, limit = STATS_HISTORY): MachineStatsSample[] {
    return (this.history.get(machineId) ?? []).slice(-limit);
  }

  /** The host's sampled figures, oldest first. */
  hostHistory(): HostStatsTick[] {
    return this.hostTicks;
  }

  /** The counters last read from a machine (CPU ns, bytes), for /metrics. */
  countersOf(machineId: string): Partial<MachineCounters> {
    const r = this.last.get(machineId) ?? {};
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.v]));
  }

  /**
   * A scrape asks: sampling stays on for `keepMs` more (so rates hold between scrapes), and when
   * the last round is older than one interval a round runs now, so the answer is fresh. The same
   * sampler as the dashboard's, not a second one.
   */
  async forScrape(keepMs = 5 * 60_000): Promise<void> {
    this.scrapedUntil = Date.now() + keepMs;
    if (Date.now() - this.lastTickAt >= STATS_INTERVAL_MS) await this.tick();
  }

  /** One round: every running or paused machine, then the host; published as `stats:machines` and `stats:host`. */
  async tick(): Promise<void> {
    if (this.ticking || !(this.audience() || Date.now() < this.scrapedUntil)) return;
    this.ticking = true;
    this.lastTickAt = Date.now();
    try {
      const rows = await listMachineRowsInStates(this.store, ['running', 'paused']);
      const items: MachineStatsTick['items'] = [];
      await Promise.all(
        rows.map(async (row) => {
          const guest = row.state === 'running' && this.watchers.has(row.id);
          const c = await Promise.resolve()
            .then(() => this.machines.driver(row.driver).stats(this.machines.toSpec(row), { guest }))
            .catch(() => null);
          if (!c) return;
          const at = Date.now();
          const prev = this.last.get(row.id) ?? {};
          const s = sampleFrom(at, row.cpus, prev, c);
          this.last.set(row.id, remember(prev, c, at));
          const h = this.history.get(row.id) ?? [];
          h.push(s);
          if (h.length > STATS_HISTORY) h.splice(0, h.length - STATS_HISTORY);
          this.history.set(row.id, h);
          items.push({ id: row.id, ...s });
        }),
      );
      const t = Date.now();
      this.bus.publish('stats:machines', { t, items });
      const cpu = hostCpuTimes();
      const mem = hostMemory();
      // After a while without an audience the last reading would average hours: no figure this time.
      const before = this.hostLast && t - this.hostLast.at <= MAX_GAP_MS ? this.hostLast.cpu : null;
      const hostTick = { t, cpuPct: cpu && before ? cpuBusyPct(before, cpu) : null, load: loadavg(), memAvailableBytes: mem.availableBytes };
      this.hostLast = cpu ? { at: t, cpu } : null;
      this.hostTicks = [...this.hostTicks.slice(1 - STATS_HISTORY), hostTick];
      this.bus.publish('stats:host', hostTick);
    } finally {
      this.ticking = false;
    }
  }
}

export function cpuBusyPct(a: CpuTimes, b: CpuTimes): number | null {
  const total = b.total - a.total;
  if (total <= 0) return null;
  return Math.round((1 - (b.idle - a.idle) / total) * 1000) / 10;
}
