import fs from 'node:fs';
import type { MachineSpec } from '../types';
import { allocatedBytes, parseMeminfoUsed, parseNetDev, procCpuNs, procRssBytes } from '../proc-stats';
import type { MachineCounters } from '../types';
import { agentExec, agentIdle } from './agent';
import { machineFiles } from './argv';
import { Qmp } from './qmp';

interface BlockStats {
  stats?: { rd_bytes?: number; wr_bytes?: number };
}

/** Bytes read and written by every drive, from the stats monitor (a machine started before it existed has none). */
async function blockStats(sock: string): Promise<{ read: number; write: number } | null> {
  if (!fs.existsSync(sock)) return null;
  const q = await Qmp.connect(sock, 1000);
  try {
    const list = await q.execute<BlockStats[]>('query-blockstats');
    return list.reduce((a, d) => ({ read: a.read + (d.stats?.rd_bytes ?? 0), write: a.write + (d.stats?.wr_bytes ?? 0) }), { read: 0, write: 0 });
  } finally {
    q.close();
  }
}

/** After a guest agent failed to answer, leave it alone this long (an image without the agent, a guest that hangs). */
const AGENT_BACKOFF_MS = 60_000;
const agentQuietUntil = new Map<string, number>();

/**
 * The guest's own view of its network and memory, through the agent on ttyS1: only when no exec
 * is using the agent, and not again for a minute after it failed to answer.
 */
async function guestFigures(agentSock: string): Promise<{ net: { rx: number; tx: number } | null; memUsed: number | null } | null> {
  const quietUntil = agentQuietUntil.get(agentSock);
  if (quietUntil !== undefined) {
    if (quietUntil > Date.now()) return null;
    agentQuietUntil.delete(agentSock);
  }
  if (!agentIdle(agentSock)) return null;
  try {
    const r = await agentExec(agentSock, ['cat', '/proc/net/dev', '/proc/meminfo'], 2000);
    if (r.code !== 0) throw new Error(r.stderr);
    agentQuietUntil.delete(agentSock);
    return { net: parseNetDev(r.stdout), memUsed: parseMeminfoUsed(r.stdout) };
  } catch {
    agentQuietUntil.set(agentSock, Date.now() + AGENT_BACKOFF_MS);
    return null;
  }
}

/**
 * A VM's counters: CPU time and resident memory of its qemu process (the host's view), drive
 * traffic from QMP's blockstats, the size of its own disk layer, and with `guest` the network and
 * memory use its guest reports (user-mode networking has no counters QEMU would tell).
 */
export async function qemuCounters(m: MachineSpec, pid: number, disk: string, opts: { guest: boolean }): Promise<MachineCounters> {
  const f = machineFiles(m.dir);
  const out: MachineCounters = {
    cpuNs: procCpuNs(pid),
    memBytes: procRssBytes(pid),
    memLimitBytes: m.memoryMib * 2 ** 20,
    diskUsedBytes: allocatedBytes(disk),
  };
  const blk = await blockStats(f.statsSock).catch(() => null);
  if (blk) {
    out.diskReadBytes = blk.read;
    out.diskWriteBytes = blk.write;
  }
  if (opts.guest) {
    const g = await guestFigures(f.agentSock);
    if (g?.net) {
      out.netRxBytes = g.net.rx;
      out.netTxBytes = g.net.tx;
    }
    if (g?.memUsed != null) out.guestMemBytes = g.memUsed;
  }
  return out;
}
