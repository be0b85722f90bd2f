import type { ClusterNode, NodeUsage } from '@/lib/contracts/nodes';
import { formatBytes, formatDuration, formatPct } from '@/lib/format';

export type NodeStateLabel = 'online' | 'offline' | 'draining';

/** Offline wins over draining: a drained node that stopped heartbeating is first of all unreachable. */
export function nodeStateLabel(n: Pick<ClusterNode, 'online' | 'state'>): NodeStateLabel {
  if (!n.online) return 'offline';
  return n.state === 'draining' ? 'draining' : 'online';
}

/** "heartbeat 3.2 s ago", by the database's clock; a fresh beat reads "just now". */
export function heartbeatText(ageMs: number): string {
  return ageMs < 1000 ? 'heartbeat just now' : `heartbeat ${formatDuration(ageMs)} ago`;
}

export type Tone = 'ok' | 'warn' | 'full';

export interface UsageBar {
  key: 'cpu' | 'memory' | 'disk';
  label: string;
  /** The share in use, 0 to 1; null when not measured. */
  fraction: number | null;
  text: string;
  tone: Tone;
}

const clamp = (v: number) => Math.max(0, Math.min(1, v));
export const toneOf = (fraction: number | null): Tone => (fraction === null || fraction < 0.75 ? 'ok' : fraction < 0.9 ? 'warn' : 'full');

function shareBar(key: 'memory' | 'disk', label: string, total: number, free: number): UsageBar {
  if (!(total > 0)) return { key, label, fraction: null, text: '–', tone: 'ok' };
  const used = Math.max(0, total - free);
  const fraction = clamp(used / total);
  return { key, label, fraction, text: `${formatBytes(used)} / ${formatBytes(total)}`, tone: toneOf(fraction) };
}

/** CPU, memory and disk of a node as bars; every bar says "–" when the node sent no figures yet. */
export function usageBars(u: NodeUsage | null | undefined, cpus: number): UsageBar[] {
  const cpuFraction = u?.cpuPct === null || u?.cpuPct === undefined ? null : clamp(u.cpuPct / 100);
  const cpuText = cpuFraction === null ? '–' : `${formatPct(u!.cpuPct!)}${cpus > 0 ? ` of ${cpus} CPUs` : ''}`;
  return [
    { key: 'cpu', label: 'CPU', fraction: cpuFraction, text: cpuText, tone: toneOf(cpuFraction) },
    shareBar('memory', 'Memory', u?.memTotalBytes ?? 0, u?.memAvailableBytes ?? 0),
    shareBar('disk', 'Disk', u?.diskTotalBytes ?? 0, u?.diskFreeBytes ?? 0),
  ];
}

/** Why Remove is refused before asking the server (which says the same with a 409): null when it may be tried. */
export function removeBlocker(n: Pick<ClusterNode, 'self' | 'online' | 'machines'>): string | null {
  if (n.self) return 'This is the node you are talking to: remove it from another node.';
  if (n.online) return 'Online: stop its server first.';
  if (n.machines) return `Owns ${n.machines} machine(s): destroy or move them first.`;
  return null;
}
