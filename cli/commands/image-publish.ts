import { parseArgs } from 'node:util';
import { publishResultSchema, pullPublishedResultSchema } from '@/lib/contracts/image-publish';
import type { createApiClient } from '@/lib/api-client';
import { formatBytes } from '@/lib/format';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

type Api = ReturnType<typeof createApiClient>;

export const PUBLISH_USAGE = [
  'hangar images publish NAME --to TARGET [--version V]     an image to a backup target, signed by this Hangar',
  'hangar images published TARGET                          what a target holds',
  'hangar images pull SOURCE NAME[:VERSION] [--as N]       SOURCE: a backup target, or the https:// URL it is served under',
  'hangar images signing-key                               this Hangar’s publishing key (give it to the Hangars that pull)',
  'hangar images trust KEY | untrust KEY                   trust (or stop trusting) another Hangar’s publishing key (admins)',
].join('\n  ');

/** The image server's verbs of `hangar images` (true: handled). */
export async function imagePublishCmd(api: Api, sub: string, argv: string[], json: boolean): Promise<boolean> {
  if (sub === 'signing-key') {
    const k = await api.images.signingKey();
    if (json) printJson(k);
    else console.log(`${k.publicKey}   ${k.fingerprint}`);
    return true;
  }
  if (sub === 'trust' || sub === 'untrust') {
    const key = argv[0];
    if (!key || argv.length > 1) throw new CliError(`Usage: hangar images ${sub} KEY   (the base64 key "hangar images signing-key" prints there)`, 2);
    const now = (await api.settings.get()).imageTrustedKeys;
    const next = sub === 'trust' ? [...new Set([...now, key])] : now.filter((k) => k !== key);
    const s = await api.settings.update({ imageTrustedKeys: next });
    if (json) printJson(s.imageTrustedKeys);
    else console.log(`${s.imageTrustedKeys.length} trusted publisher key(s).`);
    return true;
  }
  if (sub === 'published') {
    if (argv.length !== 1) throw new CliError('Usage: hangar images published TARGET', 2);
    const { items } = await api.images.published(argv[0]);
    if (json) printJson(items);
    else if (!items.length) console.log(`Nothing published on ${argv[0]}.`);
    else
      for (const i of items)
        console.log(`${i.name.padEnd(16)} ${i.version.padEnd(18)} ${i.kind.padEnd(10)} ${formatBytes(i.sizeBytes).padStart(9)}  ${i.publisher}`);
    return true;
  }
  if (sub === 'publish') {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { to: { type: 'string' }, version: { type: 'string' } } });
    if (positionals.length !== 1 || !values.to) throw new CliError(`Usage: ${PUBLISH_USAGE.split('\n')[0].trim()}`, 2);
    const done = await followJob(
      api,
      await api.images.publish(positionals[0], { target: values.to, ...(values.version ? { version: values.version } : {}) }),
      json,
    );
    if (json) return (printJson(done), true);
    if (done.state !== 'succeeded') throw new CliError(`Publishing failed: ${done.error ?? done.state}`);
    const r = publishResultSchema.parse(done.result);
    console.log(`Published ${r.image} ${r.version} to ${r.target}: ${formatBytes(r.sizeBytes)}, sha256 ${r.sha256}.`);
    return true;
  }
  if (sub === 'pull') {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { as: { type: 'string' } } });
    if (positionals.length !== 2) throw new CliError('Usage: hangar images pull SOURCE NAME[:VERSION] [--as N]', 2);
    const [image, version] = positionals[1].split(':', 2);
    const body = { source: positionals[0], image, ...(version ? { version } : {}), ...(values.as ? { as: values.as } : {}) };
    const done = await followJob(api, await api.images.pullPublished(body), json);
    if (json) return (printJson(done), true);
    if (done.state !== 'succeeded') throw new CliError(`Pull failed: ${done.error ?? done.state}`);
    const r = pullPublishedResultSchema.parse(done.result);
    console.log(`Image ${r.image} is ready: ${image} ${r.version}, ${formatBytes(r.sizeBytes)}, signed by ${r.publisher}.`);
    return true;
  }
  return false;
}
