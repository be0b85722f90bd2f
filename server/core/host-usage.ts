import fs from 'node:fs';
import os from 'node:os';
import type { Store } from '@/db/client';
import { listImages } from '@/db/repo/images';
import { listSnapshotRows } from '@/db/repo/snapshots';
import { machineStates, type Machine } from '@/lib/contracts/machines';
import type { HostStatsTick, HostUsage } from '@/lib/contracts/stats';
import { kbField, readText, treeBytes } from '@/server/drivers/proc-stats';
import type { SettingsService } from './settings';

export interface CpuTimes {
  idle: number;
  total: number;
}

/** The first line of /proc/stat: all CPUs' jiffies, idle counting iowait. */
export function parseProcStatCpu(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle: f[3] + (f[4] ?? 0), total };
}

export const loadavg = (): [number, number, number] => {
  const [a, b, c] = os.loadavg();
  return [Math.round(a * 100) / 100, Math.round(b * 100) / 100, Math.round(c * 100) / 100];
};

export function hostCpuTimes(): CpuTimes | null {
  const t = readText('/proc/stat');
  return t ? parseProcStatCpu(t) : null;
}

/** Total and available memory: MemAvailable counts the cache the kernel can drop (os.freemem does not). */
export function hostMemory(): { totalBytes: number; availableBytes: number } {
  const t = readText('/proc/meminfo') ?? '';
  return { totalBytes: kbField(t, 'MemTotal') ?? os.totalmem(), availableBytes: kbField(t, 'MemAvailable') ?? os.freemem() };
}

const ACTIVE: Machine['state'][] = ['starting', 'running', 'paused', 'stopping'];
const TREE_TTL_MS = 30_000;

/** The overview's figures: host capacity and use, Hangar's disk use, machines by state and what they were given. */
export class HostUsageService {
  private machineBytes: { at: number; bytes: Promise<number | null> } | null = null;

  constructor(
    private readonly store: Store,
    private readonly settings: SettingsService,
    /** The sampled host figures (the stats service, which reads the helpers above: hence only this much of it). */
    private readonly stats: { hostHistory(): HostStatsTick[] },
    private readonly dirs: { root: string; machines: string; layers: string },
  ) {}

  /** `machines`: those the caller may see. */
  async usage(machines: Machine[]): Promise<HostUsage> {
    const mem = hostMemory();
    const fsStat = await fs.promises.statfs(this.dirs.root);
    const [snapshots, images, machineBytes] = await Promise.all([listSnapshotRows(this.store), listImages(this.store), this.machineFiles()]);
    const complete = snapshots.filter((s) => s.state === 'complete');
    const byState = Object.fromEntries(machineStates.map((s) => [s, machines.filter((m) => m.state === s).length])) as HostUsage['machines'];
    const active = machines.filter((m) => ACTIVE.includes(m.state));
    const history = this.stats.hostHistory();
    const tick = history[history.length - 1];
    return {
      t: Date.now(),
      cpus: os.cpus().length,
      cpuPct: tick?.cpuPct ?? null,
      load: loadavg(),
      memTotalBytes: mem.totalBytes,
      memAvailableBytes: mem.availableBytes,
      disk: { path: this.dirs.root, totalBytes: fsStat.blocks * fsStat.bsize, freeBytes: fsStat.bavail * fsStat.bsize },
      data: {
        snapshotBytes: complete.reduce((a, s) => a + s.sizeBytes, 0),
        snapshotCount: complete.length,
        imageBytes: images.reduce((a, i) => a + i.sizeBytes, 0),
        machineBytes,
      },
      machines: byState,
      allocated: {
        cpus: active.reduce((a, m) => a + m.cpus, 0),
        memoryMib: active.reduce((a, m) => a + m.memoryMib, 0),
        memoryLimitMib: Math.floor((mem.totalBytes / 2 ** 20) * this.settings.get().memoryLimit),
      },
      history,
    };
  }

  /** Machines' files (disk layers, RAM files, container layers), walked at most every 30 s. */
  private machineFiles(): Promise<number | null> {
    if (!this.machineBytes || Date.now() - this.machineBytes.at > TREE_TTL_MS) {
      const bytes = Promise.all([treeBytes(this.dirs.layers, 200_000), treeBytes(this.dirs.machines, 200_000)]).then(
        ([a, b]) => (a ?? 0) + (b ?? 0),
        () => null,
      );
      this.machineBytes = { at: Date.now(), bytes };
    }
    return this.machineBytes.bytes;
  }
}
