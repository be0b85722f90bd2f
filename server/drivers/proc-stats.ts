import fs from 'node:fs';
import path from 'node:path';

/** Linux's USER_HZ: the unit of utime and stime in /proc/PID/stat (100 on every architecture Hangar runs on). */
const USER_HZ = 100;

export const readText = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** utime + stime of /proc/PID/stat in ns. The command name (field 2) may hold spaces and parentheses: fields count from the last ')'. */
export function parseProcStatCpuNs(text: string): number | null {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1e9) / USER_HZ : null;
}

/** A `Key:   value kB` field of /proc/PID/status or /proc/meminfo, in bytes. */
export function kbField(text: string, key: string): number | null {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** MemTotal - MemAvailable of a /proc/meminfo: what the guest uses, its page cache left out. */
export function parseMeminfoUsed(text: string): number | null {
  const total = kbField(text, 'MemTotal');
  const avail = kbField(text, 'MemAvailable');
  return total !== null && avail !== null ? total - avail : null;
}

/** Bytes received and sent on every interface of a /proc/net/dev but loopback. */
export function parseNetDev(text: string): { rx: number; tx: number } | null {
  let rx = 0;
  let tx = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    if (f.length < 9 || !Number.isFinite(f[0]) || !Number.isFinite(f[8])) continue;
    rx += f[0];
    tx += f[8];
    seen = true;
  }
  return seen ? { rx, tx } : null;
}

/** `key value` lines (cpu.stat, memory.stat, /proc/PID/io with its colons) as a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.replace(':', '').trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** The cgroup dirs of a process, by controller ('' for the unified hierarchy), from /proc/PID/cgroup. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const c of m[1] === '' ? [''] : m[1].split(',')) out.set(c.replace(/^name=/, ''), m[2]);
  }
  return out;
}

export function procCpuNs(pid: number): number | undefined {
  const t = readText(`/proc/${pid}/stat`);
  return t ? (parseProcStatCpuNs(t) ?? undefined) : undefined;
}

export function procRssBytes(pid: number): number | undefined {
  const t = readText(`/proc/${pid}/status`);
  return t ? (kbField(t, 'VmRSS') ?? undefined) : undefined;
}

/** The network counters of the namespace a process lives in (a container's init). */
export function procNetDev(pid: number): { rx: number; tx: number } | undefined {
  const t = readText(`/proc/${pid}/net/dev`);
  return t ? (parseNetDev(t) ?? undefined) : undefined;
}

/** CPU time of a cgroup: cpu.stat's usage_usec (cgroup v2: there even without the cpu controller), or v1's cpuacct.usage. */
export function cgroupCpuNs(dir: string): number | undefined {
  const v2 = readText(path.join(dir, 'cpu.stat'));
  const usec = v2 ? parseFlatKeyed(v2).get('usage_usec') : undefined;
  if (usec !== undefined) return usec * 1000;
  const v1 = readText(path.join(dir, 'cpuacct.usage'));
  return v1 && Number.isFinite(Number(v1)) ? Number(v1) : undefined;
}

/**
 * Memory a cgroup holds that it could not give back at once: its usage less its inactive file
 * cache (what `docker stats` shows), and its limit; v2 or v1 files, whichever are there.
 */
export function cgroupMemory(dir: string): { bytes?: number; limit?: number } {
  const cur = readText(path.join(dir, 'memory.current')) ?? readText(path.join(dir, 'memory.usage_in_bytes'));
  if (cur === null) return {};
  const stat = parseFlatKeyed(readText(path.join(dir, 'memory.stat')) ?? '');
  const inactive = stat.get('inactive_file') ?? stat.get('total_inactive_file') ?? 0;
  const rawLimit = (readText(path.join(dir, 'memory.max')) ?? readText(path.join(dir, 'memory.limit_in_bytes')) ?? '').trim();
  // "max" (v2) or a page-rounded 2^63 (v1) mean no limit.
  const limit = /^\d+$/.test(rawLimit) && Number(rawLimit) < 2 ** 60 ? Number(rawLimit) : undefined;
  return { bytes: Math.max(0, Number(cur) - inactive), limit };
}

/** Every pid in a cgroup and below it (a container's stats; killing it pid by pid). */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    const procs = readText(path.join(d, 'cgroup.procs'));
    if (procs) for (const p of procs.split('\n')) if (p) out.push(Number(p));
    let subs: fs.Dirent[];
    try {
      subs = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of subs) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

/**
 * Storage bytes read and written by a set of processes (/proc/PID/io: writes counted when
 * dirtied, so buffered writes count). Processes that exit take their counts with them: the
 * stats service treats a drop as no traffic.
 */
export function procsIo(pids: number[]): { read: number; write: number } | undefined {
  let read = 0;
  let write = 0;
  let seen = false;
  for (const pid of pids) {
    const t = readText(`/proc/${pid}/io`);
    if (!t) continue;
    const f = parseFlatKeyed(t);
    read += f.get('read_bytes') ?? 0;
    write += f.get('write_bytes') ?? 0;
    seen = true;
  }
  return seen ? { read, write } : undefined;
}

/** Bytes a file takes on disk (allocated blocks: a sparse qcow2 counts what it holds). */
export function allocatedBytes(file: string): number | undefined {
  try {
    return fs.statSync(file).blocks * 512;
  } catch {
    return undefined;
  }
}

/**
 * Bytes a directory tree takes on disk, walking at most `maxEntries` entries (a container's
 * upper dir is small; one that grew huge is reported as at least what was counted).
 */
export async function treeBytes(dir: string, maxEntries = 20_000): Promise<number | undefined> {
  let total = 0;
  let seen = 0;
  const walk = async (d: string): Promise<void> => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > maxEntries) return;
      const p = path.join(d, e.name);
      try {
        total += (await fs.promises.lstat(p)).blocks * 512;
      } catch {
        continue;
      }
      if (e.isDirectory()) await walk(p);
    }
  };
  if (!fs.existsSync(dir)) return undefined;
  await walk(dir);
  return total;
}
