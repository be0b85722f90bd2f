import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { isoNameSchema } from '@/lib/contracts/isos';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { fileBody } from '../upload';
import { CliError, printJson } from '../output';

type Api = ReturnType<typeof createApiClient>;

const api = () => {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
};

const USAGE = 'Usage: hangar isos [ls | add FILE|URL [--name NAME] | rm NAME]';

/** A library name for a file or URL: its last path part, made a valid ISO name. */
function nameFrom(where: string): string {
  const base = path.basename(new URL(where, 'file:///').pathname);
  const name = base.replace(/[^A-Za-z0-9._+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const ok = isoNameSchema.safeParse(name);
  if (!ok.success) throw new CliError(`Cannot make an ISO name of ${where}: give --name`, 2);
  return name;
}

/** Upload a local file (a URL: the server downloads it, a job to follow) into the library; returns its name there. */
export async function addIso(client: Api, where: string, name: string | undefined, json: boolean): Promise<string> {
  const as = name ?? nameFrom(where);
  if (/^https?:\/\//i.test(where)) {
    const job = await followJob(client, await client.isos.download({ url: where, name: as }), json);
    if (job.state !== 'succeeded') throw new CliError(`Downloading ${where} failed: ${job.error ?? job.state}`);
    return as;
  }
  const { body, size } = fileBody(where);
  if (!json) console.error(`Uploading ${where} (${formatBytes(size)}) as ${as}...`);
  await client.isos.upload(body, as);
  return as;
}

/**
 * `--iso` of hangar create: a library ISO's name, a local file (uploaded first, under its base
 * name unless the library has that name already) or a URL (downloaded by the server first).
 */
export async function isoFor(client: Api, iso: string, json: boolean): Promise<string> {
  const { items } = await client.isos.list();
  if (items.some((i) => i.name === iso)) return iso;
  if (/^https?:\/\//i.test(iso) || fs.existsSync(iso)) {
    const name = nameFrom(iso);
    return items.some((i) => i.name === name) ? name : addIso(client, iso, name, json);
  }
  throw new CliError(`No ISO "${iso}" in the library, and no such file. See: hangar isos`, 2);
}

export async function isos(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls' || sub === 'list') {
    const { items } = await client.isos.list();
    if (json) return printJson(items);
    if (items.length === 0) return void console.log('No ISOs. Add one: hangar isos add FILE|URL');
    for (const i of items) console.log(`${i.name.padEnd(28)} ${formatBytes(i.sizeBytes).padStart(9)}  ${i.usedBy.length ? `in ${i.usedBy.join(', ')}` : ''}`);
    return;
  }
  if (sub === 'add') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: { type: 'string' } } });
    if (positionals.length !== 1) throw new CliError(USAGE, 2);
    const name = await addIso(client, positionals[0], values.name, json);
    if (json) printJson(await client.isos.list().then((l) => l.items.find((i) => i.name === name)));
    else console.log(`ISO ${name} is in the library.`);
    return;
  }
  if (sub === 'rm' && rest[0]) {
    await client.isos.remove(rest[0]);
    if (json) printJson({ removed: rest[0] });
    else console.log(`Deleted ISO ${rest[0]}.`);
    return;
  }
  throw new CliError(USAGE, 2);
}

/** hangar cdrom eject|insert MACHINE [ISO]: change the disc of a running VM. */
export async function cdrom(argv: string[], json: boolean): Promise<void> {
  const [action, machine, iso] = argv;
  if ((action !== 'eject' && action !== 'insert') || !machine || (action === 'insert') !== !!iso)
    throw new CliError('Usage: hangar cdrom eject MACHINE | hangar cdrom insert MACHINE ISO', 2);
  const client = api();
  const r = await client.isos.cdrom(machine, action === 'insert' ? { action, iso: await isoFor(client, iso, json) } : { action });
  if (json) printJson(r);
  else console.log(r.iso ? `${r.machine}: ${r.iso} is in the drive.` : `${r.machine}: the drive is empty.`);
}
