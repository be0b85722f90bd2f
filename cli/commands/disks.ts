import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import type { MachineDisk } from '@/lib/contracts/disks';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar disk ls MACHINE
       hangar disk add MACHINE NAME (--size GiB [--bus virtio-blk|virtio-scsi] | --path /GUEST/PATH) [--detached]
       hangar disk attach|detach MACHINE NAME
       hangar disk resize MACHINE NAME --size GiB        (grow only)
       hangar disk rm MACHINE NAME                       (detached only)
Example: hangar disk add web data --size 10`;

function gib(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`--size ${v}: a whole number of GiB, at least 1.\n${USAGE}`, 2);
  return Number(v);
}

const line = (d: MachineDisk) =>
  [
    d.name.padEnd(16),
    (d.kind === 'disk' ? `${d.sizeGib} GiB ${d.bus}` : `volume at ${d.guestPath}`).padEnd(28),
    (d.attached ? 'attached' : 'detached').padEnd(9),
    d.usedBytes === null ? '' : `${formatBytes(d.usedBytes)} used`,
  ].join(' ');

/** hangar disk ...: a machine's extra disks (VMs) or volumes (containers). */
export async function disk(argv: string[], json: boolean): Promise<void> {
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { size: { type: 'string' }, bus: { type: 'string' }, path: { type: 'string' }, detached: { type: 'boolean' } },
  });
  const [sub, machine, name] = positionals;
  if (!sub || !machine || (sub !== 'ls' && !name)) throw new CliError(USAGE, 2);
  const done = (d: MachineDisk, what: string) => (json ? printJson(d) : console.log(`${machine}: ${d.name} ${what}`));
  switch (sub) {
    case 'ls': {
      const items = (await api.machines.disks.list(machine)).items;
      if (json) return printJson(items);
      if (!items.length) return console.log(`${machine} has no extra disks. Add one: hangar disk add ${machine} NAME --size 10`);
      for (const d of items) console.log(line(d));
      return;
    }
    case 'add': {
      if (values.bus !== undefined && values.bus !== 'virtio-blk' && values.bus !== 'virtio-scsi')
        throw new CliError(`--bus ${values.bus}: virtio-blk or virtio-scsi.\n${USAGE}`, 2);
      const d = await api.machines.disks.add(machine, {
        name,
        sizeGib: gib(values.size),
        bus: values.bus as MachineDisk['bus'] & string,
        guestPath: values.path,
        attach: !values.detached,
      });
      return done(d, `added (${d.kind === 'disk' ? `${d.sizeGib} GiB` : d.guestPath}, ${d.attached ? 'attached' : 'detached'})`);
    }
    case 'attach':
    case 'detach':
      return done(await api.machines.disks.change(machine, name, { attached: sub === 'attach' }), `${sub}ed`);
    case 'resize': {
      const size = gib(values.size);
      if (size === undefined) throw new CliError(`resize needs --size GiB.\n${USAGE}`, 2);
      return done(await api.machines.disks.change(machine, name, { sizeGib: size }), `is ${size} GiB`);
    }
    case 'rm':
      await api.machines.disks.remove(machine, name);
      return json ? printJson({ ok: true }) : console.log(`${machine}: ${name} deleted`);
    default:
      throw new CliError(`Unknown disk command "${sub}".\n${USAGE}`, 2);
  }
}
