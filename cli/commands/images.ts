import { imageKindSchema } from '@/lib/contracts/images';
import { createApiClient } from '@/lib/api-client';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

export async function images(argv: string[], json: boolean): Promise<void> {
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls' || sub === 'list') {
    const { items } = await api.images.list();
    if (json) return printJson(items);
    if (items.length === 0) return void console.log('No images. Build one: hangar images build busybox');
    for (const i of items) console.log(`${i.name.padEnd(14)} ${i.state.padEnd(9)} ${formatBytes(i.sizeBytes).padStart(9)}`);
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
  if (sub === 'rm') {
    const name = rest[0];
    const found = (await api.images.list()).items.find((i) => i.name === name || i.id === name);
    if (!found) throw new CliError(`No image "${name}".`);
    await api.images.remove(found.id);
    if (json) printJson({ removed: found.id });
    else console.log(`Deleted image ${found.name}.`);
    return;
  }
  throw new CliError(`Unknown: hangar images ${sub}. Try: hangar images [ls | build NAME | rm NAME]`, 2);
}
