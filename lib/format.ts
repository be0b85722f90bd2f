export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatAge(ts: number, now = Date.now()): string {
  const d = Math.max(0, now - ts);
  if (d < 10_000) return 'just now';
  if (d < 60_000) return `${Math.round(d / 1000)} s ago`;
  if (d < 3600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86400_000) return `${Math.round(d / 3600_000)} h ago`;
  return `${Math.round(d / 86400_000)} d ago`;
}

/** A rate in bytes per second. */
export const formatRate = (bps: number): string => `${formatBytes(Math.round(bps))}/s`;

export const formatPct = (v: number): string => `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
