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

/**
 * Kill every process started with `entry` in its environment, and the children they fork
 * meanwhile (they inherit it): a command in a container whose client was killed, which podman
 * leaves running (its exec'd command is a child of conmon, not of the client). The search goes on
 * until nothing held the entry for `quietMs` (a client killed while conmon was still starting the
 * command: it comes a moment later), 5 s at most. Returns how many were killed.
 */
export async function killByEnv(entry: string, opts: { procDir?: string; quietMs?: number; kill?: (pid: number) => void } = {}): Promise<number> {
  const { procDir = '/proc', quietMs = 1000, kill = (pid: number) => process.kill(pid, 'SIGKILL') } = opts;
  const killed = new Set<number>();
  const start = Date.now();
  let lastSeen = start;
  while (Date.now() - lastSeen < quietMs && Date.now() - start < 5_000) {
    const pids = await pidsWithEnv(entry, procDir);
    if (pids.length) lastSeen = Date.now();
    for (const pid of pids) {
      try {
        kill(pid);
        killed.add(pid);
      } catch {
        // Gone already.
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return killed.size;
}
