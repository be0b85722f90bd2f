import fs from 'node:fs';
import { nodeUsageSchema, type NodeUsage } from '@/lib/contracts/nodes';
import { hostCpuTimes, hostMemory } from '../host-usage';
import { cpuBusyPct } from '../stats';

/** This host's memory and the disk of its data dir now, with a CPU figure measured elsewhere. */
export function measureUsage(dataDir: string, cpuPct: number | null, now = Date.now()): NodeUsage {
  const mem = hostMemory();
  const disk = fs.statfsSync(dataDir);
  return {
    t: now,
    cpuPct,
    memTotalBytes: mem.totalBytes,
    memAvailableBytes: mem.availableBytes,
    diskTotalBytes: disk.blocks * disk.bsize,
    diskFreeBytes: disk.bavail * disk.bsize,
  };
}

/** For the heartbeat: each call measures, its CPU figure being the busy share since the call before. */
export function usageSampler(dataDir: string): () => NodeUsage | null {
  let before = hostCpuTimes();
  return () => {
    const cpu = hostCpuTimes();
    const pct = cpu && before ? cpuBusyPct(before, cpu) : null;
    before = cpu ?? before;
    try {
      return measureUsage(dataDir, pct);
    } catch {
      // The data dir's file system unreadable for a moment: the heartbeat goes without figures rather than not at all.
      return null;
    }
  };
}

/** A node row's usage_json; null for '{}' (no heartbeat carried figures yet) or a row from another version. */
export function parseNodeUsage(json: string): NodeUsage | null {
  try {
    const r = nodeUsageSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
