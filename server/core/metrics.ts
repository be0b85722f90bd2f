import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '@/db/client';
import { countJobsByKindAndState } from '@/db/repo/jobs';
import { readSettingRows, writeSetting } from '@/db/repo/settings';
import type { ScrapeTokenInfo } from '@/lib/contracts/metrics';
import { machineStateSchema, type Machine } from '@/lib/contracts/machines';
import { hashSecret } from './auth';
import type { EventBus } from './events';
import { newSecret } from './ids';
import { onJobFinished } from './job-finished';
import type { StatsService } from './stats';

const TOKEN_KEY = 'metricsScrapeToken';
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const machineLabels = ['name', 'driver', 'node', 'tags'] as const;

/**
 * Prometheus metrics (hangar_ prefix, base units, _total on counters). Per-machine figures come
 * from the stats sampler's last readings (a scrape asks it for a fresh round): there is no
 * second sampler. The scrape token is kept hashed, like API tokens.
 */
export class MetricsService {
  readonly registry = new Registry();
  /** Set by the socket layer: open sockets per namespace. */
  socketsOpen: () => Record<string, number> = () => ({});
  /** Set by core: deliveries waiting or being sent. */
  webhooksQueued: () => number = () => 0;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });
  private token: { hash: string; createdAt: number } | null = null;
  private readonly node = os.hostname();

  constructor(
    private readonly store: Store,
    bus: EventBus,
    private readonly stats: StatsService,
    private readonly machines: () => Promise<Machine[]>,
  ) {
    const r = this.registry;
    this.lag.enable();
    this.httpRequests = new Counter({
      name: 'hangar_http_requests_total',
      help: 'API requests answered, by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [r],
    });
    this.httpDuration = new Histogram({
      name: 'hangar_http_request_duration_seconds',
      help: 'Time to answer an API request (to the start of the body for streams)',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    const jobDuration = new Histogram({
      name: 'hangar_job_duration_seconds',
      help: 'Time from a job starting to its end, by kind and final state',
      labelNames: ['kind', 'state'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [r],
    });
    onJobFinished(bus, (j) => {
      if (j.finishedAt !== null) jobDuration.observe({ kind: j.kind, state: j.state }, Math.max(0, j.finishedAt - (j.startedAt ?? j.createdAt)) / 1000);
    });
    const lag = this.lag;
    new Gauge({
      name: 'hangar_event_loop_lag_seconds',
      help: "Mean delay of the server's event loop since the last scrape",
      registers: [r],
      collect() {
        this.set(Number.isFinite(lag.mean) ? lag.mean / 1e9 : 0);
      },
    });
    new Gauge({
      name: 'hangar_event_loop_lag_max_seconds',
      help: "Longest delay of the server's event loop since the last scrape",
      registers: [r],
      collect() {
        this.set(lag.max / 1e9);
        lag.reset();
      },
    });
    const socketsOpen = () => this.socketsOpen();
    new Gauge({
      name: 'hangar_sockets_open',
      help: 'Open socket.io connections, by namespace',
      labelNames: ['namespace'],
      registers: [r],
      collect() {
        this.reset();
        for (const [namespace, n] of Object.entries(socketsOpen())) this.set({ namespace }, n);
      },
    });
    const queued = () => this.webhooksQueued();
    new Gauge({
      name: 'hangar_webhook_deliveries_queued',
      help: 'Webhook deliveries waiting or being sent',
      registers: [r],
      collect() {
        this.set(queued());
      },
    });
    const jobs = new Gauge({ name: 'hangar_jobs', help: 'Jobs kept, by kind and state', labelNames: ['kind', 'state'], registers: [r] });
    this.collectors.push(async () => {
      jobs.reset();
      for (const { kind, state, n } of await countJobsByKindAndState(this.store)) jobs.set({ kind, state }, n);
    });
    this.machineMetrics();
  }

  private readonly collectors: (() => Promise<void>)[] = [];

  private machineMetrics(): void {
    const r = this.registry;
    const g = (name: string, help: string, extra: string[] = []) => new Gauge({ name, help, labelNames: [...machineLabels, ...extra], registers: [r] });
    const c = (name: string, help: string) => new Counter({ name, help, labelNames: [...machineLabels], registers: [r] });
    const state = g('hangar_machine_state', 'A machine is in this state (1) or not (0)', ['state']);
    const cpus = g('hangar_machine_cpus', 'vCPUs (or the CPU limit) given to the machine');
    const memLimit = g('hangar_machine_memory_limit_bytes', 'Memory given to the machine');
    const mem = g('hangar_machine_memory_bytes', 'Memory the machine takes on the host now (resident set, or the cgroup less its cache)');
    const diskUsed = g('hangar_machine_disk_used_bytes', "The machine's own writable layer on the host");
    const cpu = c('hangar_machine_cpu_seconds_total', 'CPU time the machine used (since its process started)');
    const read = c('hangar_machine_disk_read_bytes_total', 'Bytes the machine read from its drives');
    const written = c('hangar_machine_disk_written_bytes_total', 'Bytes the machine wrote to its drives');
    const rx = c('hangar_machine_network_receive_bytes_total', 'Bytes the machine received');
    const tx = c('hangar_machine_network_transmit_bytes_total', 'Bytes the machine sent');
    const all = [state, cpus, memLimit, mem, diskUsed, cpu, read, written, rx, tx];
    this.collectors.push(async () => {
      await this.stats.forScrape();
      for (const m of all) m.reset();
      for (const m of await this.machines()) {
        const labels = { name: m.name, driver: m.driver, node: this.node, tags: m.tags.length ? `,${m.tags.join(',')},` : '' };
        for (const s of machineStateSchema.options) state.set({ ...labels, state: s }, s === m.state ? 1 : 0);
        cpus.set(labels, m.cpus);
        memLimit.set(labels, m.memoryMib * 2 ** 20);
        if (m.state !== 'running' && m.state !== 'paused') continue;
        const k = this.stats.countersOf(m.id);
        if (k.memBytes !== undefined) mem.set(labels, k.memBytes);
        if (k.diskUsedBytes !== undefined) diskUsed.set(labels, k.diskUsedBytes);
        if (k.cpuNs !== undefined) cpu.inc(labels, k.cpuNs / 1e9);
        if (k.diskReadBytes !== undefined) read.inc(labels, k.diskReadBytes);
        if (k.diskWriteBytes !== undefined) written.inc(labels, k.diskWriteBytes);
        if (k.netRxBytes !== undefined) rx.inc(labels, k.netRxBytes);
        if (k.netTxBytes !== undefined) tx.inc(labels, k.netTxBytes);
      }
    });
  }

  observeHttp(rawMethod: string, route: string, status: number, seconds: number): void {
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : 'other';
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  private rendering: Promise<string> | null = null;

  /** The text exposition format, every collector fresh. Scrapes at the same time share one answer (collectors reset and refill gauges). */
  render(): Promise<string> {
    this.rendering ??= (async () => {
      try {
        await Promise.all(this.collectors.map((f) => f()));
        return await this.registry.metrics();
      } finally {
        this.rendering = null;
      }
    })();
    return this.rendering;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async loadToken(): Promise<void> {
    const v = (await readSettingRows(this.store))[TOKEN_KEY] as { hash?: unknown; createdAt?: unknown } | null | undefined;
    this.token = v && typeof v.hash === 'string' && typeof v.createdAt === 'number' ? { hash: v.hash, createdAt: v.createdAt } : null;
  }

  tokenInfo(): ScrapeTokenInfo {
    return { configured: !!this.token, createdAt: this.token?.createdAt ?? null };
  }

  /** A new scrape token, replacing the old one; returned once. */
  async newToken(): Promise<{ token: string; createdAt: number }> {
    const token = newSecret('hgm_');
    const createdAt = Date.now();
    await writeSetting(this.store, TOKEN_KEY, { hash: hashSecret(token), createdAt }, createdAt);
    this.token = { hash: hashSecret(token), createdAt };
    return { token, createdAt };
  }

  async removeToken(): Promise<void> {
    await writeSetting(this.store, TOKEN_KEY, null, Date.now());
    this.token = null;
  }

  isScrapeToken(token: string): boolean {
    return !!this.token && hashSecret(token) === this.token.hash;
  }
}
