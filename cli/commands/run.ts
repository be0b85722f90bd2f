import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { adminApi } from '@/lib/client/admin';
import { imagesApi } from '@/lib/client/images';
import { machinesApi } from '@/lib/client/machines';
import { transport } from '@/lib/client/transport';
import { containerNetworks, driverKinds, driverKindSchema } from '@/lib/contracts/machines';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { lightFetch } from '../http';
import { CliError } from '../output';
import { pullImage, isLocalImage } from './pull';

// Chains and consoles (socket.io) are loaded by the runs that use them: `run IMAGE -- CMD` starts without them.
const attach: typeof import('./terminal').attach = async (...a) => (await import('./terminal')).attach(...a);

/**
 * The parts of the API client a run uses (machines and jobs, images, drivers): the other areas'
 * contracts (users, sharing, snapshots...) are not loaded. Requests go over node:http (see http.ts).
 */
function runApi() {
  const cfg = loadConfig();
  const t = transport({ baseUrl: cfg.url, token: cfg.token, fetch: lightFetch() });
  return { ...machinesApi(t), ...imagesApi(t), ...adminApi(t) };
}
type RunApi = ReturnType<typeof runApi>;

/** A machine name for a run that gives none (node:crypto only then: a run's start-up is short of time). */
const runName = async () => `run-${(await import('node:crypto')).randomBytes(4).toString('hex')}`;

/**
 * hangar run CHAIN [--keep] (fingertip's `fingertip os.fedora + ssh`): the chain built from the
 * cache, then a shell in the result (a container's shell, a VM's SSH, or busybox's serial
 * console); the machine is removed when the shell ends, unless --keep.
 */
async function runChain(argv: string[]): Promise<number> {
  const { buildChain, chainOptions } = await import('./steps');
  const o = chainOptions(argv);
  o.name ??= await runName();
  const r = await buildChain(o, true);
  const api = runApi();
  const m = await api.machines.get(r.machine);
  process.stderr.write(`${r.machine}: ${r.hits} step${r.hits === 1 ? '' : 's'} from the cache, ${r.ran} run.\n`);
  try {
    // A login shell where the machine offers one (a container's, a VM's sshd), else its console.
    return await attach(r.machine, m.ssh && m.capabilities.consoles.shell ? 'ssh' : 'serial');
  } finally {
    if (o.keep) process.stderr.write(`${r.machine} keeps running (hangar rm ${r.machine} removes it).\n`);
    else
      await followJob(api, await api.machines.destroy(r.machine), true).catch((err: Error) =>
        process.stderr.write(`hangar: could not remove ${r.machine}: ${err.message}\n`),
      );
  }
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * A command in a fresh application container, attached: its stdout and stderr as they come, its
 * exit code as ours (125 when Hangar itself failed, as docker does).
 */
async function runOnce(api: RunApi, body: Parameters<RunApi['machines']['runOnce']>[0]): Promise<number> {
  let name = '';
  let last: Awaited<ReturnType<RunApi['machines']['runOnce']>>;
  try {
    last = await api.machines.runOnce(body, (e) => {
      if (e.t === 'start') {
        name = e.machine;
        // Our stdin streamed to the command as it comes; its end is the command's EOF.
        if (e.stdin) void api.runs.stdin(e.machine, e.stdin, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>).catch(() => undefined);
      } else if (e.t === 'stdout') process.stdout.write(e.d);
      else if (e.t === 'stderr') process.stderr.write(e.d);
    });
  } finally {
    // The command is over: whatever stdin still holds is not read (and must not keep us waiting).
    if (body.stdin) process.stdin.destroy();
  }
  if (!body.rm && name) process.stderr.write(`${name} stays, stopped (hangar start ${name} runs the command again; hangar rm ${name} removes it).\n`);
  if (last?.t === 'exit') return last.code;
  throw new CliError(last?.t === 'error' ? `run failed: ${last.message}` : 'run failed: the server ended the stream early', 125);
}

/**
 * hangar run [-it] [--rm] [--driver D] [--name N] IMAGE [-- CMD...]: a machine from an image
 * (a container by default, a VM for busybox). With CMD and no -it, a container runs just CMD as
 * an application container (no init; output and exit code pass through); a VM runs it through
 * exec. With -it, an interactive shell on a tty of an OS container (CMD typed into it). --rm
 * removes the machine afterwards, whatever happened.
 */
export async function runCmd(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const head = sep >= 0 ? argv.slice(0, sep) : argv;
  if (head.includes('+') || head.includes('-f') || head.includes('--file')) return runChain(argv);
  const { values, positionals } = parseArgs({
    args: sep >= 0 ? argv.slice(0, sep) : argv,
    allowPositionals: true,
    options: {
      interactive: { type: 'boolean', short: 'i', default: false },
      tty: { type: 'boolean', short: 't', default: false },
      rm: { type: 'boolean', default: false },
      driver: { type: 'string' },
      network: { type: 'string', default: 'private' },
      name: { type: 'string' },
      memory: { type: 'string' },
      node: { type: 'string' },
    },
  });
  const [ref, ...rest] = positionals;
  const cmd = sep >= 0 ? argv.slice(sep + 1) : rest;
  if (!ref)
    throw new CliError(
      'Usage: hangar run [-it] [--rm] [--driver nspawn|podman|qemu] [--network private|nat|host] [--name NAME] [--node NODE] IMAGE [-- CMD [ARGS...]]',
      2,
    );
  const driver = driverKindSchema.safeParse(values.driver ?? (ref === 'busybox' ? 'qemu' : 'nspawn'));
  if (!driver.success) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const network = containerNetworks.find((n) => n === values.network);
  if (!network) throw new CliError(`--network: one of ${containerNetworks.join(', ')}`, 2);
  const api = runApi();
  // A registry ref is pulled on first use (its progress on stderr when that is a terminal); an OCI image runs its own command without CMD.
  // What the driver can do is asked meanwhile (one round trip less before the command starts).
  const [pulled, drivers] = await Promise.all([
    (async () => ((await isLocalImage(api, ref)) ? null : await pullImage(api, ref, { policy: 'missing', quiet: !process.stderr.isTTY })))(),
    api.drivers.list(),
  ]);
  const image = pulled?.image ?? ref;
  const ownCommand = pulled !== null || /^oci-[0-9a-f]{12}$/.test(ref);
  const interactive = values.interactive || values.tty || (cmd.length === 0 && !ownCommand);
  const memoryMib = values.memory ? Number(values.memory) : 256;
  if (!Number.isInteger(memoryMib)) throw new CliError(`--memory: not a whole number: ${values.memory}`, 2);
  // What the driver can do here: run one command as an application container, offer networks.
  const d = drivers.items.find((x) => x.kind === driver.data);
  if (!d) throw new CliError(`--driver: the server has no ${driver.data} driver`, 2);
  if (!interactive && d.appContainers.available)
    return runOnce(api, {
      image,
      driver: driver.data,
      argv: cmd,
      rm: values.rm,
      network,
      memoryMib,
      stdin: !process.stdin.isTTY,
      ...(values.name ? { name: values.name } : {}),
      ...(values.node ? { node: values.node } : {}),
    });
  const name = values.name ?? (await runName());
  // An OCI image with -it (docker run -it): its own process (or CMD) on the console's tty, no shell around it.
  const app = interactive && ownCommand && d.appContainers.available;
  const body = {
    name,
    image,
    driver: driver.data,
    memoryMib,
    ...(d.networks.length ? { network } : {}),
    ...(app && cmd.length ? { command: cmd } : {}),
    ...(values.node ? { node: values.node } : {}),
  };
  await followJob(api, await api.machines.create(body), true);
  try {
    if (app) return await attach(name, 'serial', undefined, { quiet: true }).catch((err: unknown) => endedBeforeAttach(api, name, err));
    // A container's own shell (through nsenter), else the console (a VM's serial line, a podman container's shell).
    const shell = d.consoles.shell?.kind === 'container-shell' ? 'ssh' : 'serial';
    if (interactive) return await attach(name, shell, cmd.length ? `${cmd.map(quote).join(' ')}; exit $?\n` : undefined);
    const r = await api.machines.exec(name, cmd, 3600);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } finally {
    if (values.rm)
      await followJob(api, await api.machines.destroy(name), true).catch((err: Error) =>
        process.stderr.write(`hangar: could not remove ${name}: ${err.message}\n`),
      );
    else if (app) process.stderr.write(`${name} stays, stopped (hangar start ${name} runs it again; hangar rm ${name} removes it).\n`);
    else process.stderr.write(`${name} keeps running (hangar rm ${name} removes it).\n`);
  }
}

/**
 * A command that ended before its console could be attached (`run -it IMAGE -- true`): what it
 * printed (its console log holds this one run) and its exit code, as if attached. Any other
 * failure to attach is passed on.
 */
async function endedBeforeAttach(api: RunApi, name: string, err: unknown): Promise<number> {
  // The server records the end a moment after the command's exit: look for a few seconds.
  let ended: RegExpExecArray | null = null;
  for (let i = 0; i < 30 && !ended; i++) {
    const m = await api.machines.get(name).catch(() => null);
    ended = m?.state === 'stopped' ? /exited with code (\d+)|killed by signal (\d+)/.exec(m.stateReason ?? '') : null;
    if (!ended && m?.state !== 'running' && m?.state !== 'starting') break;
    if (!ended) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ended) throw err;
  process.stdout.write((await api.machines.logs(name, { tail: 1024 * 1024 })).text);
  return ended[1] !== undefined ? Number(ended[1]) : 128 + Number(ended[2]);
}
