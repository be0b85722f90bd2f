import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Files of a container's console holder, in the machine's directory. */
export const holderFiles = (dir: string) => ({
  log: `${dir}/console.log`,
  consoleSock: `${dir}/console.sock`,
  controlSock: `${dir}/control.sock`,
  pid: `${dir}/holder.pid`,
  exit: `${dir}/exit.json`,
});

/** The holder's pid and its command's (nspawn, podman run), as the holder recorded them. */
export function readPids(dir: string): { holder: number; child: number } | null {
  try {
    const p = JSON.parse(fs.readFileSync(holderFiles(dir).pid, 'utf8')) as { holder?: unknown; child?: unknown };
    return Number.isInteger(p.holder) && Number.isInteger(p.child) ? { holder: p.holder as number, child: p.child as number } : null;
  } catch {
    return null;
  }
}

/** The pid of this machine dir's holder while it is alive, else null. */
export function holderPid(dir: string): number | null {
  const pids = readPids(dir);
  try {
    return pids && fs.readFileSync(`/proc/${pids.holder}/cmdline`, 'utf8').includes('holder.js') ? pids.holder : null;
  } catch {
    return null;
  }
}

/** The holder of this machine dir is alive. */
export const holderAlive = (dir: string): boolean => holderPid(dir) !== null;

/** Poll `busy` every 20 ms until it is false or `ms` pass; true when it became false. */
export async function waitGone(busy: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!busy()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !busy();
}

/** The holder's command's exit code (128 + N when killed by signal N, as shells say); null while it runs or when unknown. */
export function holderExitCode(dir: string): number | null {
  try {
    const e = JSON.parse(fs.readFileSync(holderFiles(dir).exit, 'utf8')) as { code?: unknown; signal?: unknown };
    if (typeof e.signal === 'number' && e.signal > 0) return 128 + e.signal;
    return typeof e.code === 'number' ? e.code : null;
  } catch {
    return null;
  }
}

/** How the holder's command ended, in words (an application container's exit code is the news); null while it runs. */
export function holderExit(dir: string): string | null {
  try {
    const e = JSON.parse(fs.readFileSync(holderFiles(dir).exit, 'utf8')) as { code?: unknown; signal?: unknown };
    return typeof e.signal === 'number' && e.signal > 0 ? `The command was killed by signal ${e.signal}.` : `The command exited with code ${String(e.code)}.`;
  } catch {
    return null;
  }
}

/**
 * Run `argv` under the console holder (dist/holder.js, detached), which keeps it on a pty of its
 * own with `dir` for its files, so it outlives the server; see holder.ts.
 */
export function spawnHolder(dir: string, argv: string[], env: Record<string, string> = {}): void {
  const holder = fileURLToPath(new URL('./holder.js', import.meta.url));
  if (!fs.existsSync(holder)) throw new Error(`${holder} is missing: run npm run build.`);
  const child = spawn(process.execPath, [holder, dir, '--', ...argv], { detached: true, stdio: 'ignore', cwd: dir, env: { ...process.env, ...env } });
  child.unref();
}

/** The process `pid` runs and its command line contains `needle` (a pid is not reused under us). */
export const alive = (pid: number, needle: string): boolean => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return false;
  }
};

/** The container's init: the child of the nspawn process. */
export function initPid(nspawn: number): number | null {
  try {
    const kids = fs.readFileSync(`/proc/${nspawn}/task/${nspawn}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids[0] ?? null;
  } catch {
    return null;
  }
}
