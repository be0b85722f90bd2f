import { adminApi } from '@/lib/client/admin';
import { imagesApi } from '@/lib/client/images';
import { machinesApi } from '@/lib/client/machines';
import { transport } from '@/lib/client/transport';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { lightFetch } from '../http';
import { CliError } from '../output';
import { pullImage, isLocalImage } from './pull';
import { runLight, type RunArgs } from './run-light';

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
export async function runChain(argv: string[]): Promise<number> {
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
 * `hangar run IMAGE` the whole way (run.ts tried its one-request path first, or could not): a
 * registry ref pulled on first use, then with CMD and no -it a container runs just CMD as an
 * application container (no init; output and exit code pass through), while a VM (busybox) runs
 * it through exec; with -it, an interactive shell on a tty of an OS container (CMD typed into it).
 * --rm removes the machine afterwards, whatever happened.
 */
export async function runImage(o: RunArgs): Promise<number> {
  const { values, ref, cmd, driver, network, memoryMib } = o;
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
  // What the driver can do here: run one command as an application container, offer networks.
  const d = drivers.items.find((x) => x.kind === driver);
  if (!d) throw new CliError(`--driver: the server has no ${driver} driver`, 2);
  if (!interactive && d.appContainers.available) {
    // Pulled now: the one request of the light path runs it (null only if the image went meanwhile: then as a machine, below).
    const code = await runLight({ ...o, ref: image });
    if (code !== null) return code;
  }
  const name = values.name ?? (await runName());
  // An OCI image with -it (docker run -it): its own process (or CMD) on the console's tty, no shell around it.
  const app = interactive && ownCommand && d.appContainers.available;
  const body = {
    name,
    image,
    driver: driver,
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
