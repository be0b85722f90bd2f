import path from 'node:path/posix';
import { PassThrough, type Readable } from 'node:stream';
import type { FileStat, FilesPushed } from '@/lib/contracts/files';
import { TarChecker, UnsafeTarError } from '@/lib/tar-check';
import type { MachineDriver, MachineSpec } from '@/server/drivers/types';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from './errors';
import type { MachineService } from './machines';

/** A copy may take long (a big directory through a TCG guest), but not forever. */
const COPY_TIMEOUT_MS = 60 * 60_000;
const STAT_TIMEOUT_MS = 20_000;

const STAT_SCRIPT =
  'if [ -d "$1" ]; then echo directory; elif [ -f "$1" ]; then echo "file $(wc -c < "$1")"; ' +
  'elif [ -e "$1" ] || [ -L "$1" ]; then echo other; else echo missing; fi';
/** A file written beside its place and renamed at the end: a failed upload leaves the old file, not half a new one. */
const WRITE_SCRIPT = 'cat > "$1.hangar-part" && mv -f "$1.hangar-part" "$1" || { rc=$?; rm -f "$1.hangar-part"; exit $rc; }';

const isDiskFull = (stderr: string) => /no space left|disk quota exceeded|write error/i.test(stderr);
const firstLine = (s: string) => s.trim().split('\n').slice(-3).join(' ').slice(0, 500);

interface Target {
  name: string;
  driver: MachineDriver & Required<Pick<MachineDriver, 'execStream'>>;
  spec: MachineSpec;
}

/** Counts what passes and checks tar member names on the way (a guest may not write outside the destination). */
async function* guarded(from: AsyncIterable<Uint8Array>, tar: TarChecker | null, seen: { bytes: number; error: Error | null }) {
  try {
    for await (const chunk of from) {
      seen.bytes += chunk.length;
      tar?.push(chunk);
      yield chunk;
    }
  } catch (err) {
    seen.error = err as Error;
    throw err;
  }
}

/** `hangar cp` and the Files tab: tar streams (or one file's bytes) in and out of a running machine, through its driver. */
export class MachineFiles {
  constructor(private readonly machines: MachineService) {}

  private async target(ref: string): Promise<Target> {
    const { row, spec } = await this.machines.spec(ref);
    const m = this.machines.views.view(row);
    const driver = this.machines.driver(row.driver);
    if (!m.capabilities.files.available || !driver.execStream)
      throw new ConflictError(`${m.name} cannot copy files: ${m.capabilities.files.reason ?? 'its driver has no file access'}.`);
    if (row.state !== 'running') throw new ConflictError(`${m.name} is ${row.state}: copying files needs a running machine.`);
    return { name: m.name, driver: driver as Target['driver'], spec };
  }

  private async statIn(t: Target, p: string): Promise<FileStat> {
    let r;
    try {
      r = await t.driver.exec(t.spec, ['sh', '-c', STAT_SCRIPT, 'sh', p], { timeoutMs: STAT_TIMEOUT_MS });
    } catch (err) {
      throw new UnavailableError(err instanceof Error ? err.message : String(err));
    }
    const [kind, size] = r.stdout.trim().split(' ');
    if (r.code !== 0 || !kind) throw new UnavailableError(`Cannot look at ${p} in ${t.name}: ${firstLine(r.stderr) || `exit ${r.code}`}`);
    if (kind === 'missing') throw new NotFoundError(`${p} in ${t.name}`);
    return { path: p, type: kind as FileStat['type'], size: kind === 'file' ? Number(size) : null };
  }

  async stat(ref: string, p: string): Promise<FileStat> {
    return this.statIn(await this.target(ref), p);
  }

  /**
   * The file or directory at `p` as a tar stream (its name at the top, permissions and owners kept).
   * The stream ends in an error if the guest's tar fails or sends a member that would land outside.
   */
  async pullArchive(ref: string, p: string, signal: AbortSignal): Promise<Readable> {
    const t = await this.target(ref);
    await this.statIn(t, p);
    const norm = p.length > 1 ? p.replace(/\/$/, '') : p;
    const argv = norm === '/' ? ['tar', '-c', '-C', '/', '.'] : ['tar', '-c', '-C', path.dirname(norm), path.basename(norm)];
    return this.stream(t, argv, signal, new TarChecker());
  }

  /** One regular file's bytes. */
  async pullFile(ref: string, p: string, signal: AbortSignal): Promise<{ stream: Readable; size: number; name: string }> {
    const t = await this.target(ref);
    const st = await this.statIn(t, p);
    if (st.type !== 'file') throw new BadRequestError(`${p} is a ${st.type}, not a file: download it as an archive (hangar cp).`);
    return { stream: this.stream(t, ['cat', '--', p], signal, null), size: st.size ?? 0, name: path.basename(p) };
  }

  private stream(t: Target, argv: string[], signal: AbortSignal, tar: TarChecker | null): Readable {
    const raw = new PassThrough();
    const out = new PassThrough();
    const seen = { bytes: 0, error: null as Error | null };
    // A bad member or a caller gone: the guest's command is stopped too.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (err: Error) => {
      stop.abort();
      raw.destroy();
      out.destroy(seen.error ?? err);
    };
    // Pulled through the guard: the guest's bytes reach the caller only once their names are checked.
    const pump = (async () => {
      for await (const chunk of guarded(raw, tar, seen)) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r).once('close', r));
    })();
    pump.catch(fail);
    t.driver
      .execStream(t.spec, argv, { stdout: raw, signal: stop.signal, timeoutMs: COPY_TIMEOUT_MS })
      .then(async ({ code, stderr }) => {
        if (code !== 0) throw new Error(`${argv[0]} in ${t.name} failed: ${firstLine(stderr) || `exit ${code}`}`);
        raw.end();
        await pump;
        out.end();
      })
      .catch(fail)
      .finally(() => signal.removeEventListener('abort', onAbort));
    return out;
  }

  /** A tar stream extracted into the directory `dir` (which must exist), members checked as they come. */
  async pushArchive(ref: string, dir: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<FilesPushed> {
    const t = await this.target(ref);
    const st = await this.statIn(t, dir);
    if (st.type !== 'directory') throw new BadRequestError(`${dir} in ${t.name} is a ${st.type}: extract an archive into a directory.`);
    const tar = new TarChecker();
    const seen = await this.write(t, ['tar', '-x', '-C', dir], body, tar, signal);
    return { ok: true, path: dir, members: tar.members, bytes: seen };
  }

  /** One file's bytes written to `p` (its directory must exist). */
  async pushFile(ref: string, p: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<FilesPushed> {
    const t = await this.target(ref);
    if (p.endsWith('/')) throw new BadRequestError('Name the file to write, not a directory.');
    const parent = await this.statIn(t, path.dirname(p));
    if (parent.type !== 'directory') throw new NotFoundError(`Directory ${path.dirname(p)} in ${t.name}`);
    const bytes = await this.write(t, ['sh', '-c', WRITE_SCRIPT, 'sh', p], body, null, signal);
    return { ok: true, path: p, members: 1, bytes };
  }

  private async write(t: Target, argv: string[], body: AsyncIterable<Uint8Array>, tar: TarChecker | null, signal: AbortSignal): Promise<number> {
    const seen = { bytes: 0, error: null as Error | null };
    const r = await t.driver.execStream(t.spec, argv, { stdin: guarded(body, tar, seen), signal, timeoutMs: COPY_TIMEOUT_MS }).catch((err: Error) => err);
    // The upload's own fault first: a refused member (or a broken-off body) ends the guest's command too.
    if (seen.error instanceof UnsafeTarError) throw new BadRequestError(seen.error.message);
    if (seen.error) throw new BadRequestError(`The upload broke off: ${seen.error.message}`);
    if (r instanceof Error) throw new UnavailableError(r.message);
    if (r.code !== 0) {
      if (isDiskFull(r.stderr)) throw new ConflictError(`${t.name}'s disk is full (no space left on device): ${firstLine(r.stderr)}`);
      throw new BadRequestError(`${argv[0]} in ${t.name} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
    }
    return seen.bytes;
  }
}
