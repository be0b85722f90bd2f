import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createApiClient, ApiError, type ApiClient } from '@/lib/api-client';
import { NAME_PATTERN } from '@/lib/contracts/common';
import { formatBytes } from '@/lib/format';
import { TarChecker } from '@/lib/tar-check';
import { loadConfig } from '../config';
import { CliError, fileProblem, printJson } from '../output';

const USAGE = 'Usage: hangar cp SRC DEST   (one side NAME:PATH, a machine; the other a local path: files and directories, modes kept)';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

/** `web-1:/etc/hosts` → a machine and an absolute normal path in it (relative: from its /). A local path with a colon: write ./a:b. */
export function parseRemote(arg: string): { machine: string; path: string } | null {
  const i = arg.indexOf(':');
  if (i <= 0 || !NAME_PATTERN.test(arg.slice(0, i))) return null;
  const p = path.posix.resolve('/', arg.slice(i + 1) || '/');
  return { machine: arg.slice(0, i), path: p };
}

/** GNU tar's --transform that renames the top member (and hard-link targets under it), never symlink targets. */
export function renameTop(to: string): string {
  return `--transform=s\x01^[^/]*\x01${to.replace(/[\\&]/g, '\\$&')}\x01S`;
}

/** A tar process; its exit code and stderr once it ends. */
function tarProcess(args: string[], stdio: 'in' | 'out') {
  const child = spawn('tar', args, { stdio: [stdio === 'in' ? 'pipe' : 'ignore', stdio === 'out' ? 'pipe' : 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new CliError(`tar: ${e.message} (is GNU tar installed?)`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new CliError(`tar failed (exit ${code}): ${err.trim()}`))));
  });
  return { child, done };
}

async function push(client: ApiClient, src: string, dest: { machine: string; path: string }, json: boolean) {
  const local = path.resolve(src);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(local);
  } catch {
    throw new CliError(`No such local file or directory: ${src}`);
  }
  if (local === '/') throw new CliError('Copy a directory, not the whole root filesystem.');
  // docker cp's rules: into an existing directory keeps the name; otherwise DEST is the new name.
  let dir = dest.path;
  let rename: string | null = null;
  const there = await client.machines.files.stat(dest.machine, dest.path).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  });
  if (there?.type !== 'directory') {
    if (there && st.isDirectory()) throw new CliError(`${dest.machine}:${dest.path} is a ${there.type}: a directory cannot replace it.`);
    if (dest.path === '/') throw new CliError('Name a destination.');
    dir = path.posix.dirname(dest.path);
    rename = path.posix.basename(dest.path);
  }
  const args = ['-c', '-C', path.dirname(local), ...(rename ? [renameTop(rename)] : []), '--', path.basename(local)];
  const tar = tarProcess(args, 'out');
  const failed = tar.done.then(
    () => null,
    (e: Error) => e,
  );
  const r = await client.machines.files.push(dest.machine, dir, Readable.toWeb(tar.child.stdout!) as ReadableStream);
  const tarError = await failed;
  if (tarError) throw tarError;
  const where = `${dest.machine}:${path.posix.join(dir, rename ?? path.basename(local))}`;
  if (json) printJson({ to: where, members: r.members, bytes: r.bytes });
  else console.log(`Copied ${src} to ${where} (${r.members} ${r.members === 1 ? 'entry' : 'entries'}, ${formatBytes(r.bytes)} of tar)`);
}

/** A directory of our own in `parent` for a copy to land in first; one that cannot be made is said in words. */
function scratchIn(parent: string): string {
  try {
    return fs.mkdtempSync(path.join(parent, '.hangar-cp-'));
  } catch (err) {
    throw new CliError(`Cannot write into ${parent}: ${fileProblem(err)}.`);
  }
}

async function pull(client: ApiClient, src: { machine: string; path: string }, dest: string, json: boolean) {
  if (src.path === '/') throw new CliError('Copy a directory of the machine, not its whole root filesystem.');
  const target = path.resolve(dest);
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  const parent = isDir ? target : path.dirname(target);
  if (!fs.existsSync(parent)) throw new CliError(`No such local directory: ${parent}`);
  const top = path.posix.basename(src.path);
  // Into an existing directory: extracted there (merged, like docker cp). To a new name: into a directory
  // of our own first, renamed in one step at the end, so a failed copy leaves nothing half-written.
  const scratch = isDir ? null : scratchIn(parent);
  try {
    const res = await client.machines.files.pull(src.machine, src.path);
    const tar = tarProcess(['-x', '-p', '-C', scratch ?? target], 'in');
    const check = new TarChecker();
    let bytes = 0;
    const sink = tar.child.stdin!;
    sink.on('error', () => undefined);
    try {
      for await (const chunk of Readable.fromWeb(res.body as never) as AsyncIterable<Buffer>) {
        // The server checks too; a guest is never trusted to write outside DEST on this disk.
        check.push(chunk);
        bytes += chunk.length;
        if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
      }
    } catch (err) {
      tar.child.kill();
      throw new CliError(`The copy broke off: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      sink.end();
    }
    await tar.done;
    const landed = scratch ? target : path.join(target, top);
    if (scratch) fs.renameSync(path.join(scratch, top), target);
    if (json) printJson({ to: landed, members: check.members, bytes });
    else
      console.log(
        `Copied ${src.machine}:${src.path} to ${landed} (${check.members} ${check.members === 1 ? 'entry' : 'entries'}, ${formatBytes(bytes)} of tar)`,
      );
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** `hangar cp SRC DEST`: like `docker cp`, one side in a machine; tar streams both ways, checked on both ends. */
export async function cp(argv: string[], json: boolean): Promise<void> {
  const args = argv.filter((a) => a !== '--');
  if (args.length !== 2) throw new CliError(USAGE, 2);
  const [a, b] = args.map(parseRemote);
  if (a && b) throw new CliError('Copy between a machine and this computer: one side NAME:PATH, the other a local path.', 2);
  if (!a && !b) throw new CliError(`Neither side names a machine (NAME:PATH). ${USAGE}`, 2);
  const client = api();
  if (b) await push(client, args[0], b, json);
  else await pull(client, a!, args[1], json);
}
