/**
 * The process a user step runs in (dist/step-runner.js; forked by step-process.ts with a heap
 * limit, a memory watchdog and a time limit). It imports the step's compiled module, gives its
 * `run(machine, args)` a machine whose every method is a call over the IPC channel to the server
 * (which does it on the real machine, as for built-in steps), and reports the end. Anything the
 * step leaves running, or throws later, cannot reach the server: this process exits after the
 * step, and a throw outside run() fails the step with that reason.
 */
import { pathToFileURL } from 'node:url';
import type { StepMachine } from './builtins';

export type ToChild =
  { t: 'run'; module: string; name: string; args: Record<string, unknown>; machine: { name: string; driver: StepMachine['driver'] } } | Reply;
export type Reply = { t: 'reply'; id: number; ok: true; value: unknown } | { t: 'reply'; id: number; ok: false; error: string };
export type FromChild =
  { t: 'call'; id: number; method: RpcMethod; args: unknown[] } | { t: 'log'; line: string } | { t: 'done' } | { t: 'fail'; message: string; outside: boolean };
export type RpcMethod = 'exec' | 'writeFile' | 'writeTree' | 'readFile' | 'console.send' | 'console.sendline' | 'console.expect' | 'reboot' | 'apply';

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

process.on('message', (msg: ToChild) => {
  if (msg.t === 'reply') {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p?.resolve(msg.value);
    else p?.reject(new Error(msg.error));
    return;
  }
  void (async () => {
    try {
      const mod = (await import(pathToFileURL(msg.module).href)) as { default?: unknown };
      const steps = (Array.isArray(mod.default) ? mod.default : [mod.default]) as { name?: string; run?: (m: StepMachine, a: unknown) => unknown }[];
      const step = steps.find((s) => s?.name === msg.name);
      if (!step || typeof step.run !== 'function') throw new Error(`the module no longer exports a step named ${msg.name}`);
      await step.run(machine(msg.machine), msg.args);
      await finish({ t: 'done' });
    } catch (err) {
      await finish({ t: 'fail', message: describe(err), outside: false });
    }
  })();
});
