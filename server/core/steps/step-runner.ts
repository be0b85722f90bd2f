/**
 * The process a user step module's code runs in (dist/step-runner.js; forked by step-child.ts with
 * a heap limit and a memory watchdog; the server keeps the time). Two uses:
 * - a run (step-process.ts): it imports the step's compiled module, gives its `run(machine, args)`
 *   a machine whose every method is a call over the IPC channel to the server (which does it on
 *   the real machine, as for built-in steps), and reports the end. Anything the step leaves
 *   running, or throws later, cannot reach the server: this process exits after the step, and a
 *   throw outside run() fails the step with that reason.
 * - a module's host (step-host.ts): it imports the module, says what its steps are (plain data),
 *   then checks arguments with their fromWords and zod schemas on request, until the server ends
 *   it. A throw from the module's code at any time ends it, with the reason.
 */
import { pathToFileURL } from 'node:url';
import type { StepMachine } from './builtins';
import { checkArgs, describeStep, type CheckInput, type CheckResult, type StepDescription, type UserStepModule } from './user-step-shape';

export type ToChild =
  | { t: 'run'; module: string; name: string; args: Record<string, unknown>; machine: { name: string; driver: StepMachine['driver'] } }
  | { t: 'describe'; module: string; settleMs: number }
  | { t: 'check'; id: number; name: string; input: CheckInput }
  | Reply;
export type Reply = { t: 'reply'; id: number; ok: true; value: unknown } | { t: 'reply'; id: number; ok: false; error: string };
export type FromChild =
  | { t: 'call'; id: number; method: RpcMethod; args: unknown[] }
  | { t: 'log'; line: string }
  | { t: 'done' }
  | { t: 'fail'; message: string; outside: boolean }
  | { t: 'loading' }
  | { t: 'described'; steps: StepDescription[] }
  | { t: 'checked'; id: number; result: CheckResult };
export type RpcMethod = 'exec' | 'writeFile' | 'writeTree' | 'readFile' | 'console.send' | 'console.sendline' | 'console.expect' | 'reboot' | 'apply';

/** Throws when the message cannot be copied (DataCloneError); resolves once it is sent. */
const send = (m: FromChild) => new Promise<void>((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));

const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let seq = 0;
const call = (method: RpcMethod, ...args: unknown[]): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const id = ++seq;
    pending.set(id, { resolve, reject });
    void send({ t: 'call', id, method, args });
  });

function machine(info: { name: string; driver: StepMachine['driver'] }): StepMachine {
  return {
    name: info.name,
    driver: info.driver,
    exec: (argv, timeoutS) => call('exec', argv, timeoutS) as Promise<{ stdout: string; stderr: string }>,
    writeFile: async (path, content, mode) => void (await call('writeFile', path, content, mode)),
    writeTree: async (path, targz) => void (await call('writeTree', path, targz)),
    readFile: async (path) => {
      const v = (await call('readFile', path)) as Uint8Array;
      return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    },
    console: {
      send: async (data) => void (await call('console.send', data)),
      sendline: async (line) => void (await call('console.sendline', line)),
      expect: (pattern, timeoutS) => call('console.expect', pattern, timeoutS) as Promise<string>,
    },
    reboot: async () => void (await call('reboot')),
    apply: async (step, args) => void (await call('apply', step, args)),
    log: (line) => void send({ t: 'log', line: String(line) }),
  };
}

async function finish(m: FromChild): Promise<never> {
  await send(m);
  process.exit(m.t === 'done' ? 0 : 1);
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

process.on('uncaughtException', (err) => void finish({ t: 'fail', message: describe(err), outside: true }));
process.on('unhandledRejection', (err) => void finish({ t: 'fail', message: describe(err), outside: true }));
process.on('disconnect', () => process.exit(1));

const load = async (module: string): Promise<UserStepModule[]> => {
  const mod = (await import(pathToFileURL(module).href)) as { default?: unknown };
  return (Array.isArray(mod.default) ? mod.default : [mod.default]) as UserStepModule[];
};

/** A run: the step's run() with the machine over IPC; the process ends with it. */
async function runStep(msg: Extract<ToChild, { t: 'run' }>): Promise<void> {
  try {
    const step = (await load(msg.module)).find((s) => s?.name === msg.name);
    if (!step || typeof step.run !== 'function') throw new Error(`the module no longer exports a step named ${msg.name}`);
    await step.run(machine(msg.machine), msg.args);
    await finish({ t: 'done' });
  } catch (err) {
    await finish({ t: 'fail', message: describe(err), outside: false });
  }
}

/** The host's module, once loaded: its steps by name. */
let hosted: Map<string, UserStepModule> | null = null;

/**
 * A host: the module loaded and described. Its top level may leave work behind (a timer that
 * throws): what goes wrong within `settleMs` after the import is still the loading's failure.
 */
async function describeModule(msg: Extract<ToChild, { t: 'describe' }>): Promise<void> {
  let steps: StepDescription[];
  await send({ t: 'loading' });
  try {
    const exported = await load(msg.module);
    steps = exported.map(describeStep);
    hosted = new Map(exported.map((m) => [m.name, m]));
  } catch (err) {
    return finish({ t: 'fail', message: describe(err), outside: false });
  }
  await new Promise((r) => setTimeout(r, msg.settleMs));
  await send({ t: 'described', steps });
}

async function check(msg: Extract<ToChild, { t: 'check' }>): Promise<void> {
  const step = hosted?.get(msg.name);
  const result: CheckResult = step ? await checkArgs(step, msg.input) : { ok: false, error: `the module has no step named ${msg.name}` };
  try {
    await send({ t: 'checked', id: msg.id, result });
  } catch (err) {
    // Arguments that cannot be copied out of this process (a function, a class instance) cannot reach the step's run() either.
    await send({ t: 'checked', id: msg.id, result: { ok: false, error: `its args schema gives what cannot leave its process: ${describe(err)}` } });
  }
}

process.on('message', (msg: ToChild) => {
  if (msg.t === 'reply') {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p?.resolve(msg.value);
    else p?.reject(new Error(msg.error));
  } else if (msg.t === 'run') void runStep(msg);
  else if (msg.t === 'describe') void describeModule(msg);
  else if (msg.t === 'check') void check(msg);
});
