import { parseArgs } from 'node:util';
import type { createApiClient } from '@/lib/api-client';
import { diskResultSchema } from '@/lib/contracts/disk-images';
import { formatBytes } from '@/lib/format';
import { followJob } from '../follow';
import { fileBody } from '../upload';
import { CliError, printJson } from '../output';

const USAGE =
  'Usage: hangar images import FILE|URL|server:PATH --disk --name NAME [--sha256 HEX]   (a qcow2 or raw VM disk; server:PATH is a file on the server)';

/** The format, virtual size and (when not BIOS) firmware a disk image's row keeps, for `hangar images ls`. */
export function diskFacts(recipe: Record<string, unknown>): string {
  if (typeof recipe.virtualBytes !== 'number') return '';
  return `  ${String(recipe.format)}, ${formatBytes(recipe.virtualBytes)} virtual${recipe.firmware === 'uefi' ? ', UEFI' : ''}`;
}

/** hangar images import FILE|URL --disk --name N: a VM disk image, uploaded, downloaded by the server, or a file on the server. */
export async function importDisk(api: ReturnType<typeof createApiClient>, argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      sha256: { type: 'string' },
      disk: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
    },
  });
  const [where] = positionals;
  if (!where || positionals.length > 1 || !values.name) throw new CliError(USAGE, 2);
  const opts = { name: values.name, ...(values.sha256 ? { sha256: values.sha256 } : {}) };
  let job;
  if (/^https?:\/\//i.test(where)) job = await api.images.importDiskFrom({ url: where, ...opts });
  else if (where.startsWith('server:')) job = await api.images.importDiskFrom({ path: where.slice('server:'.length), ...opts });
  else {
    const { body, name } = fileBody(where);
    job = await api.images.importDisk(body, { ...opts, file: name });
  }
  const done = values['no-wait'] ? job : await followJob(api, job, json);
  if (json) return printJson(done);
  if (done.state !== 'succeeded') return void console.log(`Importing ${values.name}: job ${job.id}`);
  const r = diskResultSchema.parse(done.result);
  const facts = `${r.format}, ${formatBytes(r.virtualBytes)} virtual, ${r.firmware.toUpperCase()} boot`;
  console.log(`Disk image ${r.image} is ready: ${facts}, ${formatBytes(r.sizeBytes)} kept (sha256 ${r.sha256}).`);
}
