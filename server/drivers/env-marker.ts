import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';

/** The environment variable that marks one command's processes (`podman exec --env`). */
const MARKER = 'HANGAR_EXEC_ID';

/** A fresh `NAME=VALUE` entry to start one command with. */
export function newEnvMarker(): string {
  return `${MARKER}=${randomUUID()}`;
}

/** Pids of this host whose environment holds `entry` exactly (one of its NUL-separated entries). */
export async function pidsWithEnv(entry: string, procDir = '/proc'): Promise<number[]> {
  const needle = Buffer.from(`\0${entry}\0`);
  const pids: number[] = [];
  for (const name of await readdir(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    // A process that ended meanwhile, or one of another user's (rootless): not ours to find.
    const env = await readFile(`${procDir}/${name}/environ`).catch(() => null);
    if (!env?.length) continue;
    if (Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]).includes(needle)) pids.push(Number(name));
  }
  return pids;
}

/** The parent of each process in `procDir` (from /proc/PID/stat: the field after the command's closing parenthesis). */
async function parents(procDir: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const name of await readdir(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`${procDir}/${name}/stat`, 'latin1').catch(() => null);
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so read after the last ')'.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (Number.isInteger(ppid)) out.set(Number(name), ppid);
  }
  return out;
}

/** `pids` and every process below them. */
export async function withDescendants(pids: number[], procDir = '/proc'): Promise<number[]> {
  const tree = await parents(procDir);
  const all = new Set(pids);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of tree) {
      if (all.has(ppid) && !all.has(pid)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return [...all];
}

/**
 * Kill every process started with `entry` in its environment, the children they fork meanwhile
 * (they inherit it), and whatever runs below them without it (`env -i`, `su -`): a command in a
 * container whose client was killed, which podman leaves running (its exec'd command is a child
 * of conmon, not of the client). The search goes on until nothing held the entry for `quietMs` (a
 * client killed while conmon was still starting the command: it comes a moment later), 5 s at
 * most. Each one found is stopped (SIGSTOP) with what runs below it before any is killed, so
 * none forks out of reach meanwhile. Returns how many were killed. A command that clears its own
 * environment before any search (`exec env -i ...` as the whole command) leaves nothing to find.
 */
export async function killByEnv(
  entry: string,
  opts: { procDir?: string; quietMs?: number; signal?: (pid: number, sig: NodeJS.Signals) => void } = {},
): Promise<number> {
  const { procDir = '/proc', quietMs = 1000, signal = (pid: number, sig: NodeJS.Signals) => void process.kill(pid, sig) } = opts;
  const killed = new Set<number>();
  const send = (pid: number, sig: NodeJS.Signals) => {
    try {
      signal(pid, sig);
      return true;
    } catch {
      return false; // gone already
    }
  };
  const start = Date.now();
  let lastSeen = start;
  while (Date.now() - lastSeen < quietMs && Date.now() - start < 5_000) {
    const marked = await pidsWithEnv(entry, procDir);
    if (marked.length) {
      lastSeen = Date.now();
      // Stopped first, and the tree read again until it shows no new one: a child forked after a look at the tree, which
      // clears its environment and is left without a marked parent once that parent is killed, would escape otherwise.
      const held = new Set<number>();
      for (let fresh = marked; fresh.length;) {
        for (const pid of fresh) if (send(pid, 'SIGSTOP')) held.add(pid);
        fresh = (await withDescendants([...held], procDir)).filter((pid) => !held.has(pid));
      }
      for (const pid of held) if (send(pid, 'SIGKILL')) killed.add(pid);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return killed.size;
}
