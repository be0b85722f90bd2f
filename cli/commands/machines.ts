import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { containerNetworks, driverKinds, driverKindSchema, type MachineAction } from '@/lib/contracts/machines';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

function api() {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

export async function ps(json: boolean): Promise<void> {
  const { items } = await api().machines.list();
  if (json) return printJson(items);
  if (items.length === 0) return void console.log('No machines. Create one: hangar create NAME --image busybox');
  console.log(`${'NAME'.padEnd(20)} ${'STATE'.padEnd(9)} ${'DRIVER'.padEnd(11)} ${'IMAGE'.padEnd(12)} RESOURCES`);
  for (const m of items) {
    console.log(`${m.name.padEnd(20)} ${m.state.padEnd(9)} ${`${m.driver}${m.accel ? `/${m.accel}` : ''}`.padEnd(11)} ${m.image.padEnd(12)} ${m.cpus} vCPU, ${m.memoryMib} MiB`);
  }
}

export async function create(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { image: { type: 'string', default: 'busybox' }, driver: { type: 'string', default: 'qemu' }, network: { type: 'string', default: 'private' }, publish: { type: 'string', short: 'p', multiple: true, default: [] }, cpus: { type: 'string' }, memory: { type: 'string' }, disk: { type: 'string' }, 'no-start': { type: 'boolean', default: false } },
  });
  const name = positionals[0];
  if (!name) throw new CliError('Usage: hangar create NAME [--image busybox] [--driver qemu|nspawn|podman] [--network private|nat|host] [-p HOST:GUEST]... [--cpus N] [--memory MiB] [--disk GiB] [--no-start]', 2);
  const driver = driverKindSchema.safeParse(values.driver);
  if (!driver.success) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const network = containerNetworks.find((n) => n === values.network);
  if (!network) throw new CliError(`--network: one of ${containerNetworks.join(', ')}`, 2);
  const ports = (values.publish ?? []).map((p) => {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(p);
    if (!m) throw new CliError(`-p ${p}: write HOST:GUEST, like 8080:80`, 2);
    return { host: Number(m[1]), guest: Number(m[2]), protocol: 'tcp' as const };
  });
  const num = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CliError(`--${what}: not a whole number: ${v}`, 2);
    return n;
  };
  const client = api();
  const job = await client.machines.create({ name, driver: driver.data, network, ports, image: values.image!, cpus: num(values.cpus, 'cpus'), memoryMib: num(values.memory, 'memory'), diskGib: num(values.disk, 'disk'), start: !values['no-start'] });
  await followJob(client, job, json);
  const m = await client.machines.get(name);
  if (json) printJson(m);
  else console.log(`${m.name} is ${m.state}.`);
}

export async function act(action: MachineAction, argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { force: { type: 'boolean', default: false }, timeout: { type: 'string' } } });
  if (!positionals[0]) throw new CliError(`Usage: hangar ${action} NAME${action === 'stop' ? ' [--force] [--timeout S]' : ''}`, 2);
  const client = api();
  const job = await client.machines.act(positionals[0], action, { force: values.force, ...(values.timeout ? { timeoutS: Number(values.timeout) } : {}) });
  await followJob(client, job, json);
  const m = await client.machines.get(positionals[0]);
  if (json) printJson(m);
  else console.log(`${m.name} is ${m.state}.`);
}

export async function rm(argv: string[], json: boolean): Promise<void> {
  if (argv.length === 0) throw new CliError('Usage: hangar rm NAME [NAME...]', 2);
  const client = api();
  for (const name of argv) {
    await followJob(client, await client.machines.destroy(name), json);
    if (!json) console.log(`Destroyed ${name}.`);
  }
  if (json) printJson({ destroyed: argv });
}

/** hangar exec NAME -- CMD ARGS: output to our stdout/stderr, and the guest's exit code as ours. */
export async function exec(argv: string[], json: boolean): Promise<number> {
  const sep = argv.indexOf('--');
  const name = argv[0];
  const cmd = sep >= 0 ? argv.slice(sep + 1) : argv.slice(1);
  if (!name || name === '--' || cmd.length === 0) throw new CliError('Usage: hangar exec NAME -- CMD [ARGS...]', 2);
  const r = await api().machines.exec(name, cmd);
  if (json) printJson(r);
  else {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
  return r.code;
}

/** hangar unit NAME: a container as a systemd unit file for the host, on stdout. */
export async function unit(argv: string[], json: boolean): Promise<void> {
  if (!argv[0] || argv[0].startsWith('-')) throw new CliError('Usage: hangar unit NAME > /etc/systemd/system/hangar-NAME.service', 2);
  const u = await api().machines.unitFile(argv[0]);
  if (json) printJson(u);
  else process.stdout.write(u.unit);
}

/** hangar logs NAME [-n BYTES] [-f]: the console log's tail (the serial line, or a container's output), and with -f what follows. */
export async function logs(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { follow: { type: 'boolean', short: 'f', default: false }, bytes: { type: 'string', short: 'n' } } });
  if (!positionals[0]) throw new CliError('Usage: hangar logs NAME [-n BYTES] [-f]', 2);
  const tail = values.bytes === undefined ? undefined : Number(values.bytes);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 1)) throw new CliError(`-n: a number of bytes, not ${values.bytes}`, 2);
  const client = api();
  let piece = await client.machines.logs(positionals[0], { tail });
  if (json && !values.follow) return printJson(piece);
  process.stdout.write(piece.text);
  while (values.follow) {
    await new Promise((r) => setTimeout(r, 500));
    piece = await client.machines.logs(positionals[0], { from: piece.next });
    process.stdout.write(piece.text);
  }
}
