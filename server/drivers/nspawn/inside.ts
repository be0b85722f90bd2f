import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { killable, run } from '../exec';
import { streamProcess } from '../exec-stream';
import { spawnPty } from '../pty';
import { applyLimits, busy, cgroupDirs, ENTER_CGROUPS, execCgroups, killCgroup } from '../shared/cgroups';
import { initPid, readPids, waitGone } from '../shared/holder-files';
import type { ConsoleSource, ExecResult, MachineSpec, RunOnceIo, StreamIo } from '../types';
import { natOf, nspawnArgv } from './argv';
import { natUpFor, tearDownNat } from './network';
import { dropNspawnNoise } from './noise';
import { cgroupOf, commandOf } from './runtime';

export const PATH_IN_GUEST = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The container's cgroups, made, with its memory and CPU limits; a command run through
 * ENTER_CGROUPS starts inside them. `limitsNote`: the limits the host would not take.
 */
export function enterCgroups(m: MachineSpec): { argv: string[]; limitsNote: string | null } {
  const problems = applyLimits(cgroupOf(m), { memoryMib: m.memoryMib, cpus: m.cpus });
  return {
    argv: ['sh', '-c', ENTER_CGROUPS, 'hangar-enter', ...cgroupDirs(cgroupOf(m)).all, '--'],
    limitsNote: problems.length ? `limits not applied: ${problems.join('; ')}` : null,
  };
}

/** The argv prefix that puts a command into the container's cgroups first (its limits, its figures). */
function inCgroups(m: MachineSpec): string[] {
  const dirs = execCgroups(cgroupOf(m));
  return dirs.length ? ['sh', '-c', ENTER_CGROUPS, 'hangar-exec', ...dirs, '--'] : [];
}

/**
 * The environment a command in the container starts with, set on the host before nsenter (which
 * passes it on and looks the command up in the container by its PATH): an image without
 * /usr/bin/env (busybox, an OCI image) runs commands too.
 */
const cleanEnv = (...extra: string[]) => ['env', '-i', PATH_IN_GUEST, 'HOME=/root', ...extra];

/** The container's init (the child of nspawn), while it runs. */
export function initOf(m: MachineSpec): number | null {
  const pids = readPids(m.dir);
  return pids ? initPid(pids.child) : null;
}

const pidNs = (pid: number): string | null => {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
};

/**
 * The container's init once it is in the container's own PID namespace. Just after a start,
 * nspawn's only child is its short-lived outer child (still in the host's namespaces): entering
 * that one fails once it exits, so commands wait (up to `ms`) for the real init.
 */
async function settledInit(m: MachineSpec, ms = 10_000): Promise<number | null> {
  const until = Date.now() + ms;
  for (;;) {
    const pids = readPids(m.dir);
    const init = pids ? initPid(pids.child) : null;
    if (pids && init) {
      const own = pidNs(init);
      if (own && own !== pidNs(pids.child)) return init;
    }
    if (!pids || Date.now() > until) return pids && init ? init : null;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The NAT network's rule goes with the container (the veth goes by itself). */
export async function netDown(m: MachineSpec): Promise<void> {
  const nat = natOf(m);
  if (nat) await tearDownNat(nat).catch(() => undefined);
}

/** In the container's namespaces (nsenter into init), with a clean environment. */
export async function execIn(m: MachineSpec, argv: string[], opts: { timeoutMs: number }): Promise<ExecResult> {
  const init = await settledInit(m);
  if (!init) throw new Error('The container is not running.');
  const r = await run([...inCgroups(m), ...cleanEnv('TERM=dumb'), 'nsenter', '-t', String(init), '-a', '--', ...argv], {
    timeoutMs: opts.timeoutMs,
  });
  if (r.timedOut) throw new Error(`The command did not finish within ${opts.timeoutMs / 1000} s.`);
  return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr, durationMs: Math.round(r.durationMs) };
}

/** Like execIn, with streamed stdin and stdout (`hangar cp`'s tar both ways). */
export async function execStreamIn(m: MachineSpec, argv: string[], io: StreamIo): Promise<{ code: number; stderr: string }> {
  const init = await settledInit(m);
  if (!init) throw new Error('The container is not running.');
  return streamProcess([...inCgroups(m), ...cleanEnv(), 'nsenter', '-t', String(init), '-a', '--', ...argv], io);
}

/** A login shell in the container (bash on a pty of its own, through nsenter): the "SSH" channel of a container. */
export async function shellIn(m: MachineSpec, cols: number, rows: number): Promise<ConsoleSource> {
  const init = await settledInit(m);
  if (!init) throw new Error('The container is not running.');
  const argv = [...inCgroups(m), ...cleanEnv('TERM=xterm-256color'), 'nsenter', '-t', String(init), '-a', '--'];
  // bash where the image has it, else its sh (a busybox or Alpine root has no bash).
  return Promise.resolve(spawnPty([...argv, '/bin/sh', '-c', '[ -x /bin/bash ] && exec /bin/bash -l; exec /bin/sh -l'], { cols, rows, cwd: '/' }));
}

/**
 * An application container's command run once, attached to the caller (no holder, no pty):
 * stdout and stderr stay apart, the exit code is the command's. Killing goes through the
 * cgroup, since the container's processes are not in nspawn's process group.
 */
export async function runOnceIn(m: MachineSpec, rootfs: string, io: RunOnceIo): Promise<{ code: number; timedOut: boolean }> {
  if (!commandOf(m)) throw new Error('Not an application container: it has no command.');
  const cg = enterCgroups(m);
  if (cg.limitsNote) io.onData('stderr', Buffer.from(`hangar: ${cg.limitsNote}\n`));
  const argv = [...cg.argv, ...nspawnArgv(m, rootfs, { pipe: true })];
  const err = dropNspawnNoise((t) => io.onData('stderr', Buffer.from(t)));
  const errText = new StringDecoder('utf8');
  const kill = () => killCgroup(cgroupOf(m));
  const nat = natOf(m);
  let net: Promise<void> = Promise.resolve();
  try {
    const { value: r, timedOut } = await killable(io.signal, io.timeoutMs, kill, () =>
      run(argv, {
        env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' },
        maxOutputBytes: 64 * 1024,
        stdin: io.stdin,
        // `sh` execs nspawn: its pid is nspawn's. A network that cannot be set up ends the run.
        onSpawn: (pid) => {
          if (nat)
            net = natUpFor(nat, pid).catch((e: Error) => {
              err.push(`hangar: ${e.message}\n`);
              kill();
            });
        },
        onData: (stream, chunk) => (stream === 'stdout' ? io.onData('stdout', chunk) : err.push(errText.write(chunk))),
      }),
    );
    await net;
    err.end();
    return { code: r.code ?? 137, timedOut };
  } finally {
    await waitGone(() => cgroupDirs(cgroupOf(m)).all.some(busy), 5000);
    await netDown(m);
  }
}
