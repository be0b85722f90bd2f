import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { driverKinds, driverKindSchema } from '@/lib/contracts/machines';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError } from '../output';
import { attach } from './terminal';

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * hangar run [-it] [--rm] [--driver D] [--name N] IMAGE [-- CMD...]: a machine from an image
 * (a container by default, a VM for busybox), then CMD run in it (its output and exit code
 * pass through), or with -it an interactive shell on a tty (CMD typed into it). --rm removes
 * the machine afterwards, whatever happened.
 */
export async function runCmd(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const { values, positionals } = parseArgs({
    args: sep >= 0 ? argv.slice(0, sep) : argv,
    allowPositionals: true,
    options: { interactive: { type: 'boolean', short: 'i', default: false }, tty: { type: 'boolean', short: 't', default: false }, rm: { type: 'boolean', default: false }, driver: { type: 'string' }, name: { type: 'string' }, memory: { type: 'string' } },
  });
  const [image, ...rest] = positionals;
  const cmd = sep >= 0 ? argv.slice(sep + 1) : rest;
  if (!image) throw new CliError('Usage: hangar run [-it] [--rm] [--driver nspawn|qemu] [--name NAME] IMAGE [-- CMD [ARGS...]]', 2);
  const driver = driverKindSchema.safeParse(values.driver ?? (image === 'busybox' ? 'qemu' : 'nspawn'));
  if (!driver.success) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const interactive = values.interactive || values.tty || cmd.length === 0;
  const cfg = loadConfig();
  const api: ApiClient = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const name = values.name ?? `run-${randomBytes(4).toString('hex')}`;
  const memoryMib = values.memory ? Number(values.memory) : 256;
  if (!Number.isInteger(memoryMib)) throw new CliError(`--memory: not a whole number: ${values.memory}`, 2);
  await followJob(api, await api.machines.create({ name, image, driver: driver.data, memoryMib }), true);
  try {
    if (interactive) return await attach(name, driver.data === 'nspawn' ? 'ssh' : 'serial', cmd.length ? `${cmd.map(quote).join(' ')}; exit $?\n` : undefined);
    const r = await api.machines.exec(name, cmd, 3600);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } finally {
    if (values.rm) await followJob(api, await api.machines.destroy(name), true).catch((err: Error) => process.stderr.write(`hangar: could not remove ${name}: ${err.message}\n`));
    else process.stderr.write(`${name} keeps running (hangar rm ${name} removes it).\n`);
  }
}
