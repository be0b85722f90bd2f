import { parseArgs } from 'node:util';
import { imageKindSchema, rootfsResultSchema } from '@/lib/contracts/images';
import { createApiClient } from '@/lib/api-client';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { fileBody } from '../upload';
import { CliError, printJson } from '../output';
import { diskFacts, importDisk } from './image-disk';
import { imagePublishCmd, PUBLISH_USAGE } from './image-publish';

export async function images(argv: string[], json: boolean): Promise<void> {
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls' || sub === 'list') {
    const { items } = await api.images.list();
    if (json) return printJson(items);
    if (items.length === 0) return void console.log('No images. Build one: hangar images build busybox');
    for (const i of items) console.log(`${i.name.padEnd(14)} ${i.state.padEnd(9)} ${formatBytes(i.sizeBytes).padStart(9)}${diskFacts(i.recipe)}`);
    return;
  }
  if (sub === 'build') {
    const kind = imageKindSchema.safeParse(rest[0]);
    if (!kind.success) throw new CliError(`Which image? One of: ${imageKindSchema.options.join(', ')}`, 2);
    const job = await api.images.build({ kind: kind.data });
    const done = rest.includes('--no-wait') ? job : await followJob(api, job, json);
    if (json) printJson(done);
    else if (done.state === 'succeeded') console.log(`Image ${kind.data} is ready.`);
    else console.log(`Building ${kind.data}: job ${job.id}`);
    return;
  }
  if (sub === 'import') return rest.includes('--disk') ? importDisk(api, rest, json) : importRootfs(api, rest, json);
  if (await imagePublishCmd(api, sub, rest, json)) return;
  if (sub === 'rm') {
    const name = rest[0];
    const found = (await api.images.list()).items.find((i) => i.name === name || i.id === name);
    if (!found) throw new CliError(`No image "${name}".`);
    await api.images.remove(found.id);
    if (json) printJson({ removed: found.id });
    else console.log(`Deleted image ${found.name}.`);
    return;
  }
  throw new CliError(
    `Unknown: hangar images ${sub}. Try: hangar images [ls | build NAME | import FILE|URL --name N [--disk] | rm NAME]\n  ${PUBLISH_USAGE}`,
    2,
  );
}

const IMPORT_USAGE = 'Usage: hangar images import FILE|URL --name NAME [--sha256 HEX] [--allow-setuid]   (.tar, .tar.gz, .tar.xz, .tar.zst)';

/** hangar images import FILE|URL --name N: a root filesystem tarball, uploaded (a file) or downloaded by the server (a URL). */
async function importRootfs(api: ReturnType<typeof createApiClient>, argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      sha256: { type: 'string' },
      'allow-setuid': { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
    },
  });
  const [where] = positionals;
  if (!where || positionals.length > 1 || !values.name) throw new CliError(IMPORT_USAGE, 2);
  const opts = { name: values.name, ...(values.sha256 ? { sha256: values.sha256 } : {}), allowSetuid: values['allow-setuid'] };
  let job;
  if (/^https?:\/\//i.test(where)) job = await api.images.importRootfsUrl({ url: where, ...opts });
  else {
    const { body, name } = fileBody(where);
    job = await api.images.importRootfs(body, { ...opts, file: name });
  }
  const done = values['no-wait'] ? job : await followJob(api, job, json);
  if (json) return printJson(done);
  if (done.state !== 'succeeded') return void console.log(`Importing ${values.name}: job ${job.id}`);
  const r = rootfsResultSchema.parse(done.result);
  console.log(`Image ${r.image} is ready: ${r.entries} entries, ${formatBytes(r.sizeBytes)} (sha256 ${r.sha256}).`);
}
