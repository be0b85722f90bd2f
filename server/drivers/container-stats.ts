import { cgroupCpuNs, cgroupMemory, cgroupPids, procNetDev, procsIo, treeBytes } from './proc-stats';
import type { MachineCounters } from './types';

/** How long a container's upper-dir size is kept before it is walked again. */
const TREE_TTL_MS = 30_000;
const treeCache = new Map<string, { at: number; bytes: number | undefined }>();

/** A container's writable layer size, walked at most every 30 s (a walk of a big layer costs). */
async function upperBytes(upper: string): Promise<number | undefined> {
  const hit = treeCache.get(upper);
  if (hit && Date.now() - hit.at < TREE_TTL_MS) return hit.bytes;
  const bytes = await treeBytes(upper);
  const now = Date.now();
  // Containers come and go: walks nobody asked for again lately are dropped.
  for (const [k, v] of treeCache) if (now - v.at > 10 * TREE_TTL_MS) treeCache.delete(k);
  treeCache.set(upper, { at: now, bytes });
  return bytes;
}

/**
 * A container's counters from its cgroups: CPU from the unified hierarchy's cpu.stat (or v1
 * cpuacct), memory from the memory controller, storage traffic summed over its processes, the
 * network of its own namespace (none when it shares the host's: those would be the host's
 * figures), and the size of its writable layer.
 */
export async function containerCounters(c: {
  cpuDir: string | null;
  memoryDir: string | null;
  procsDir: string | null;
  /** A process inside the container's network namespace; null when it uses the host's network. */
  netPid: number | null;
  /** Only loopback in its namespace: no traffic to count, so zero rather than unknown. */
  loopbackOnly: boolean;
  upper: string | null;
  memLimitBytes: number;
}): Promise<MachineCounters> {
  const out: MachineCounters = {};
  if (c.cpuDir) out.cpuNs = cgroupCpuNs(c.cpuDir);
  if (c.memoryDir) {
    const mem = cgroupMemory(c.memoryDir);
    out.memBytes = mem.bytes;
    out.memLimitBytes = mem.limit ?? c.memLimitBytes;
  }
  if (c.procsDir) {
    const io = procsIo(cgroupPids(c.procsDir));
    if (io) {
      out.diskReadBytes = io.read;
      out.diskWriteBytes = io.write;
    }
  }
  if (c.netPid !== null) {
    const net = procNetDev(c.netPid) ?? (c.loopbackOnly ? { rx: 0, tx: 0 } : undefined);
    if (net) {
      out.netRxBytes = net.rx;
      out.netTxBytes = net.tx;
    }
  }
  if (c.upper) out.diskUsedBytes = await upperBytes(c.upper);
  return out;
}
