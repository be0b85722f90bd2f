import type { Principal } from '../auth';
import type { ConsoleRegistry } from '../console/registry';
import type { JobContext, JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { StepMachine } from './builtins';
import { StepConsole } from './step-console';
import type { Lookup } from './user-steps';

/** Bytes per exec when uploading: base64 of it stays under an exec argument's 64 KiB. */
const CHUNK = 36 * 1024;
/** The longest a step's command may run (a machine exec's limit). */
const MAX_EXEC_S = 3600;

/**
 * A command of a step, bounded here whatever the driver does: past `limitS` it fails with a clear
 * reason (the driver, given the same limit, ends the command too), and the build stops.
 */
export function withinLimit<T>(work: Promise<T>, limitS: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within its time limit of ${limitS} s (the step's timeoutS, or --timeout S, sets it)`)),
      limitS * 1000,
    );
  });
  // The driver's own timeout may end the command a moment later: that failure is the same one, already said.
  work.catch(() => undefined);
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

export interface StepMachineDeps {
  machines: MachineService;
  jobs: JobRunner;
  consoles: ConsoleRegistry;
}

/**
 * The machine a build's steps act on: exec through the driver (agent, nsenter or podman exec),
 * uploads in chunks through exec (so any driver can take them), the serial console pexpect style,
 * reboot as a restart job. `close()` lets go of the console when the build ends.
 */
export function stepMachine(
  deps: StepMachineDeps,
  p: Principal,
  target: { id: string; name: string; driver: StepMachine['driver'] },
  lk: Lookup,
  ctx: JobContext,
): StepMachine & { close(): void } {
  const exec = async (argv: string[], timeoutS = 600) => {
    const limitS = Math.min(timeoutS, MAX_EXEC_S);
    const r = await withinLimit(deps.machines.exec(p, target.id, { argv, timeoutS: limitS }), limitS, argv[0]);
    if (r.code !== 0) throw new Error(`${argv[0]} exited with ${r.code}: ${`${r.stderr}${r.stdout}`.trim().split('\n').slice(-5).join(' | ')}`);
    return r;
  };
  /** The bytes into a temporary file next to `dest`, one exec per chunk; returns its name. */
  const send = async (dest: string, bytes: Uint8Array): Promise<string> => {
    const tmp = `${dest.replace(/\/+$/, '')}.hangar-upload`;
    await exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && : > "$1"', 'upload', tmp], 60);
    for (let at = 0; at < bytes.length || at === 0; at += CHUNK) {
      await exec(['sh', '-c', 'printf %s "$2" | base64 -d >> "$1"', 'upload', tmp, Buffer.from(bytes.subarray(at, at + CHUNK)).toString('base64')], 120);
      if (bytes.length === 0) break;
    }
    return tmp;
  };
  const con = new StepConsole(deps.consoles, p, target.id);
  const m: StepMachine & { close(): void } = {
    name: target.name,
    driver: target.driver,
    exec,
    execRaw: (argv, timeoutS = 600) => deps.machines.exec(p, target.id, { argv, timeoutS: Math.min(timeoutS, 3600) }),
    writeFile: async (path, content, mode = '644') => {
      const tmp = await send(path, typeof content === 'string' ? Buffer.from(content) : content);
      await exec(['sh', '-c', 'chmod "$3" "$1" && mv -f "$1" "$2"', 'file', tmp, path, mode], 60);
    },
    writeTree: async (path, targz) => {
      const tmp = await send(path, targz);
      await exec(['sh', '-c', 'mkdir -p "$2" && tar -xzf "$1" -C "$2"; rc=$?; rm -f "$1"; exit $rc', 'tree', tmp, path], 300);
    },
    readFile: async (path) => Buffer.from((await exec(['base64', path], 300)).stdout.replace(/\s+/g, ''), 'base64'),
    console: {
      send: (d) => con.send(d),
      sendline: (l) => con.sendline(l),
      expect: (pattern, timeoutS) => con.expect(pattern, timeoutS),
    },
    reboot: async () => {
      ctx.log(`  restarting ${target.name}`);
      await deps.jobs.waitFor(await deps.machines.act(p, target.id, 'restart', { force: false, timeoutS: 20 }), ctx);
      // Ready is not yet "answers exec" on every image: ask with short timeouts until it does, a second apart
      // (a refused connection fails at once, and 21 of those would pass in under a second).
      for (let i = 0; ; i++) {
        const ok = await deps.machines.exec(p, target.id, { argv: ['true'], timeoutS: 3 }).then(
          (r) => r.code === 0,
          () => false,
        );
        if (ok) break;
        if (i >= 20) throw new Error(`${target.name} does not answer exec after the restart`);
        ctx.signal.throwIfAborted();
        await new Promise((r) => setTimeout(r, 1000));
      }
      // What the console showed before the restart is not matched by the next expect.
      con.skip();
    },
    // Another step inside this one: its arguments checked by its schema; cached as part of the calling step.
    apply: async (step, args = {}) => {
      const checked = await lk.check({ step, args }, 1);
      ctx.log(`  apply ${step}`);
      await lk.runner(step)!(m, checked.args);
    },
    log: (line) => ctx.log(line),
    signal: ctx.signal,
    close: () => con.close(),
  };
  return m;
}
