import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { ApiClient } from '@/lib/api-client';
import { imageKinds, pullResultSchema } from '@/lib/contracts/images';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { LOCAL_ARCHIVE } from '../local-archive';
import { followJob } from '../follow';
import { fileBody } from '../upload';
import { CliError, printJson } from '../output';

// The whole client for pull and registry; `hangar run` uses the functions below with the parts it loads (see run.ts).
const client = async () => {
  const { createApiClient } = await import('@/lib/api-client');
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
};

/** What pulling needs of the API client. */
type PullApi = Pick<ApiClient, 'images' | 'jobs'>;

/** A Hangar image's own name (a recipe's, or a pulled image's `oci-<12 hex>`), as opposed to a registry ref. */
export const isImageName = (s: string) => (imageKinds as readonly string[]).includes(s) || /^oci-[0-9a-f]{12}$/.test(s);

/** A Hangar image here by this name (a recipe's, a pulled one's, or an imported root filesystem's): nothing to pull. */
export async function isLocalImage(api: PullApi, s: string): Promise<boolean> {
  if (isImageName(s)) return true;
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(s)) return false;
  return (await api.images.list()).items.some((i) => i.name === s);
}

/** The archive as an upload body: the file as it is, or an OCI layout directory put into a tar on the way. */
async function archiveBody(kind: string, where: string): Promise<{ body: ReadableStream<Uint8Array>; name: string }> {
  const abs = path.resolve(where);
  if (kind !== 'oci') return fileBody(abs, `${kind}:${where}`);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (!st?.isDirectory() || !fs.existsSync(path.join(abs, 'oci-layout')))
    throw new CliError(`oci:${where}: not an OCI layout directory (no oci-layout file in it)`, 2);
  // node:child_process only here: `hangar run` of a registry image starts without it.
  const { spawn } = await import('node:child_process');
  const tar = spawn('tar', ['--create', '--file', '-', '--directory', abs, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { body: Readable.toWeb(tar.stdout) as ReadableStream<Uint8Array>, name: `${path.basename(abs)}.tar` };
}

/** Pull REF (a job; its progress on stderr unless quiet) and return what it became. */
export async function pullImage(api: PullApi, ref: string, opts: { policy: 'always' | 'missing'; quiet: boolean }) {
  const local = LOCAL_ARCHIVE.exec(ref);
  const archive = local ? await archiveBody(local[1], local[2]) : null;
  const job = archive ? await api.images.importArchive(archive.body, archive.name) : await api.images.pull({ ref, policy: opts.policy });
  const done = job.state === 'succeeded' ? job : await followJob(api, job, opts.quiet);
  return pullResultSchema.parse(done.result);
}

/** The image name to create a machine from: a Hangar image as it is, a registry ref pulled first when it is not here yet. */
export async function imageFor(api: PullApi, image: string): Promise<string> {
  if (await isLocalImage(api, image)) return image;
  try {
    return (await pullImage(api, image, { policy: 'missing', quiet: !process.stderr.isTTY })).image;
  } catch (err) {
    // A bare word may have been meant as one of ours (a typo): say both what is not here and what the pull said.
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(image)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new CliError(`No image "${image}" here (hangar images lists them), and pulling it as a registry image failed: ${why}`);
  }
}

/** hangar pull REF: an OCI image from a registry into Hangar's store, progress per layer. */
export async function pullCmd(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { quiet: { type: 'boolean', short: 'q', default: false } } });
  const ref = positionals[0];
  if (!ref || positionals.length > 1)
    throw new CliError(
      'Usage: hangar pull [-q] REF   (docker://HOST[:PORT]/NAME:TAG, NAME:TAG, NAME@sha256:…, oci-archive:FILE, docker-archive:FILE, oci:DIR)',
      2,
    );
  const r = await pullImage(await client(), ref, { policy: 'always', quiet: values.quiet || json });
  if (json) return printJson(r);
  console.log(`${r.ref}: image ${r.image} (${r.digest}, ${formatBytes(r.sizeBytes)})${r.reused ? ', already here' : ''}`);
}

/**
 * hangar registry [ls | login HOST [-u USER --password-stdin] [--insecure] [--ca FILE] | logout HOST]:
 * how Hangar reaches a registry. The password is read from stdin, never from argv.
 */
export async function registryCmd(argv: string[], json: boolean): Promise<void> {
  const api = await client();
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls') {
    const { items } = await api.registries.list();
    if (json) return printJson(items);
    if (!items.length) return void console.log('No registries set. Add one: hangar registry login HOST -u USER --password-stdin');
    for (const r of items) console.log(`${r.host.padEnd(30)} ${r.insecure ? 'insecure' : 'tls'.padEnd(8)} ${r.username ?? '-'}${r.hasCa ? ' (own CA)' : ''}`);
    return;
  }
  if (sub === 'login') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        username: { type: 'string', short: 'u' },
        'password-stdin': { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        ca: { type: 'string' },
      },
    });
    const host = positionals[0];
    if (!host) throw new CliError('Usage: hangar registry login HOST [-u USER --password-stdin] [--insecure] [--ca FILE]', 2);
    if (values.username && !values['password-stdin']) throw new CliError('-u goes with --password-stdin (the password is read from stdin).', 2);
    const password = values['password-stdin'] ? fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
    let ca: string | undefined;
    if (values.ca) {
      try {
        ca = fs.readFileSync(values.ca, 'utf8');
      } catch (err) {
        throw new CliError(`--ca ${values.ca}: ${(err as Error).message}`, 2);
      }
    }
    const r = await api.registries.put(host, {
      insecure: values.insecure,
      ...(values.username && password ? { username: values.username, password } : {}),
      ...(ca !== undefined ? { ca } : {}),
    });
    if (json) return printJson(r);
    console.log(`${r.host}: ${r.username ? `logged in as ${r.username}` : 'set'}${r.insecure ? ' (insecure: no TLS verification)' : ''}.`);
    return;
  }
  if (sub === 'logout' || sub === 'rm') {
    if (!rest[0]) throw new CliError('Usage: hangar registry logout HOST', 2);
    await api.registries.remove(rest[0]);
    if (json) printJson({ removed: rest[0] });
    else console.log(`${rest[0]}: settings and credentials removed.`);
    return;
  }
  throw new CliError(`Unknown: hangar registry ${sub}. Try: hangar registry [ls | login HOST | logout HOST]`, 2);
}
