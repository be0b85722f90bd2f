import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ApiError, apiErrorOf } from '@/lib/client/api-error';
import { readJsonLines } from '@/lib/client/ndjson';
import { containerNetworks, driverKinds } from '@/lib/contracts/machine-kinds';
import type { RunOnceBody, RunOnceEvent } from '@/lib/contracts/machines';
import { loadConfig } from '../config';
import { lightFetch } from '../http';
import { LOCAL_ARCHIVE } from '../local-archive';
import { CliError } from '../output';

const USAGE = 'Usage: hangar run [-it] [--rm] [--driver nspawn|podman|qemu] [--network private|nat|host] [--name NAME] [--node NODE] IMAGE [-- CMD [ARGS...]]';

/** `hangar run`'s flags and words, checked (no API client, no schemas: see runLight). */
export function runArgs(argv: string[]) {
  const sep = argv.indexOf('--');
  const { values, positionals } = parseArgs({
    args: sep >= 0 ? argv.slice(0, sep) : argv,
    allowPositionals: true,
    options: {
      interactive: { type: 'boolean', short: 'i', default: false },
      tty: { type: 'boolean', short: 't', default: false },
      rm: { type: 'boolean', default: false },
      driver: { type: 'string' },
      network: { type: 'string', default: 'private' },
      name: { type: 'string' },
      memory: { type: 'string' },
      node: { type: 'string' },
    },
  });
  const [ref, ...rest] = positionals;
  if (!ref) throw new CliError(USAGE, 2);
  const driver = driverKinds.find((k) => k === (values.driver ?? (ref === 'busybox' ? 'qemu' : 'nspawn')));
  if (!driver) throw new CliError(`--driver: one of ${driverKinds.join(', ')}`, 2);
  const network = containerNetworks.find((n) => n === values.network);
  if (!network) throw new CliError(`--network: one of ${containerNetworks.join(', ')}`, 2);
  const memoryMib = values.memory ? Number(values.memory) : 256;
  if (!Number.isInteger(memoryMib)) throw new CliError(`--memory: not a whole number: ${values.memory}`, 2);
  return { values, ref, cmd: sep >= 0 ? argv.slice(sep + 1) : rest, driver, network, memoryMib };
}
export type RunArgs = ReturnType<typeof runArgs>;

/**
 * A run's event as `hangar run` and `hangar exec` show it: output written as it comes, and on the
 * start event, when the command takes input, `sendStdin` streams ours to it (its end is the command's EOF).
 */
export function showRunEvent(e: RunOnceEvent, sendStdin: (machine: string, stdinId: string) => void): void {
  if (e.t === 'start' && e.stdin) sendStdin(e.machine, e.stdin);
  else if (e.t === 'stdout') process.stdout.write(e.d);
  else if (e.t === 'stderr') process.stderr.write(e.d);
}

/** A Hangar image's name as the API takes it (`debian-12`, `oci-<12 hex>`, an import's name); anything else is a registry ref. */
const IMAGE_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/**
 * `hangar run IMAGE -- CMD` in one request: POST /machines/run with the image by name, or a
 * registry ref the server has pulled already, the output streamed back as it comes. No API
 * client and no schemas are loaded, and nothing is asked first (the pull, the drivers): a warm
 * run's start-up is short of time. null when the server says the whole path is needed: no image
 * by that name, or the ref is not pulled yet (404 on `image` or `ref`: the whole path pulls it,
 * `alpine` included), or the driver runs no application containers (400 on
 * `command`: a VM runs CMD through exec). Any other refusal is the answer.
 */
export async function runLight(o: RunArgs): Promise<number | null> {
  // A local archive (oci-archive:, docker-archive:, oci:) is uploaded by the whole path: the server never reads our files.
  if (LOCAL_ARCHIVE.test(o.ref)) return null;
  const cfg = loadConfig();
  const f = lightFetch();
  const auth: Record<string, string> = cfg.token ? { authorization: `Bearer ${cfg.token}` } : {};
  const stdin = !process.stdin.isTTY;
  const body: Partial<RunOnceBody> = {
    ...(IMAGE_NAME.test(o.ref) ? { image: o.ref } : { ref: o.ref }),
    driver: o.driver,
    argv: o.cmd,
    rm: o.values.rm,
    network: o.network,
    memoryMib: o.memoryMib,
    stdin,
    ...(o.values.name ? { name: o.values.name } : {}),
    ...(o.values.node ? { node: o.values.node } : {}),
  };
  const post = async (path: string, init: { body: string | ReadableStream<Uint8Array>; type: string }) => {
    try {
      // duplex: a streamed body (stdin) needs it where the request goes to fetch (https).
      const streamed = typeof init.body === 'string' ? {} : { duplex: 'half' };
      return await f(`${cfg.url}/api${path}`, { method: 'POST', headers: { ...auth, 'content-type': init.type }, body: init.body, ...streamed } as RequestInit);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
      throw new ApiError(0, 'network', `Cannot reach Hangar at ${cfg.url}: ${err instanceof Error ? err.message : String(err)}${cause}`);
    }
  };
  const res = await post('/machines/run', { body: JSON.stringify(body), type: 'application/json' });
  if (!res.ok) {
    const err = apiErrorOf(res.status, await res.text(), '/machines/run');
    const on = (p: string) => err.issues?.some((i) => i.path === p) === true;
    if ((err.status === 404 && (on('ref') || on('image'))) || (err.status === 400 && on('command'))) return null;
    throw err;
  }
  let name = '';
  let last: RunOnceEvent | null = null;
  try {
    await readJsonLines(res.body as unknown as AsyncIterable<Uint8Array>, (v) => {
      const e = v as RunOnceEvent;
      last = e;
      if (e.t === 'start') name = e.machine;
      showRunEvent(e, (machine, id) => {
        const path = `/machines/${encodeURIComponent(machine)}/stdin/${encodeURIComponent(id)}`;
        void post(path, { body: Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>, type: 'application/octet-stream' })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
      });
    });
  } finally {
    // The command is over: whatever stdin still holds is not read (and must not keep us waiting).
    if (stdin) process.stdin.destroy();
  }
  const end = last as RunOnceEvent | null;
  if (!o.values.rm && name) process.stderr.write(`${name} stays, stopped (hangar start ${name} runs the command again; hangar rm ${name} removes it).\n`);
  if (end?.t === 'exit') return end.code;
  throw new CliError(end?.t === 'error' ? `run failed: ${end.message}` : 'run failed: the server ended the stream early', 125);
}
