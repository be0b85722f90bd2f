import fs from 'node:fs';
import { firstLine, run } from '../exec';
import { detectCompression, TarRefusal, TarScanner, type Compression, type ScanResult, type ScanRules } from './tar-scan';

/** The decompressor that writes a file's tar stream to stdout (the host's own tools: gzip, xz-utils, zstd, bzip2). */
const DECOMPRESS: Record<Exclude<Compression, 'none'>, string[]> = {
  gzip: ['gzip', '-dc', '--'],
  xz: ['xz', '-dc', '--'],
  zstd: ['zstd', '-dcq', '--'],
  bzip2: ['bzip2', '-dc', '--'],
};

/** GNU tar's flag for each compression (it runs the same tools). */
const TAR_FLAG: Record<Compression, string[]> = { none: [], gzip: ['--gzip'], xz: ['--xz'], zstd: ['--zstd'], bzip2: ['--bzip2'] };

/** The file's compression by its first bytes, or a refusal for what is no tar archive, compressed or not. */
export function compressionOf(file: string): Compression {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, 512, 0);
    const c = detectCompression(head.subarray(0, n));
    if (!c) throw new TarRefusal('not a tar archive (nor a gzip, xz, zstd or bzip2 compressed one)');
    return c;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every header of the archive judged (see TarScanner) without writing anything: the whole
 * stream is read, so a truncated or corrupt compressed file is refused here too.
 */
export async function scanTarball(file: string, rules: ScanRules, signal?: AbortSignal): Promise<ScanResult & { compression: Compression }> {
  const compression = compressionOf(file);
  const scanner = new TarScanner(rules);
  if (compression === 'none') {
    for await (const chunk of fs.createReadStream(file)) {
      signal?.throwIfAborted();
      scanner.push(chunk as Buffer);
    }
    return { ...scanner.end(), compression };
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let refusal: unknown = null;
  const r = await run([...DECOMPRESS[compression], file], {
    signal: stop.signal,
    timeoutMs: 30 * 60_000,
    maxOutputBytes: 64 * 1024,
    onData: (stream, chunk) => {
      if (stream !== 'stdout' || refusal) return;
      try {
        scanner.push(chunk);
      } catch (err) {
        // The first bad entry is enough: the rest need not be decompressed.
        refusal = err;
        stop.abort();
      }
    },
  }).finally(() => signal?.removeEventListener('abort', onAbort));
  signal?.throwIfAborted();
  if (refusal) throw refusal;
  if (r.code !== 0) throw new TarRefusal(`the ${compression} stream is damaged or truncated (${firstLine(r.stderr) || `exit ${r.code}`})`);
  return { ...scanner.end(), compression };
}

export interface ExtractOptions {
  compression: Compression;
  /** Bytes of the uncompressed archive (from the scan): the progress's whole. */
  tarBytes: number;
  /** Keep setuid/setgid bits and file capabilities (the scan refused them otherwise). */
  allowSetuid: boolean;
  /** Free bytes the filesystem must keep: extraction stops when it would go below. */
  reserveBytes: number;
  signal: AbortSignal;
  progress: (fraction: number) => void;
}

/** Records of 10 KiB per tar checkpoint (GNU tar's record is 20 blocks); `%u` prints the records read so far. */
const CHECKPOINT_RECORDS = 100;

/**
 * The scanned archive unpacked into `root` by GNU tar as root: owners kept by number (an OS
 * image's files belong to its own users, not to the host's users of the same name), no path
 * outside the root (tar refuses `..` and strips `/` itself, and the scan refused them first),
 * symlinks made as symlinks and never followed. The disk's free space is watched while it runs.
 */
export async function extractTarball(file: string, root: string, o: ExtractOptions): Promise<void> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let full = false;
  const watch = setInterval(() => {
    const st = fs.statfsSync(root);
    if (st.bavail * st.bsize < o.reserveBytes) {
      full = true;
      stop.abort();
    }
  }, 250);
  const records = Math.max(1, o.tarBytes / 10240);
  const argv = [
    'tar',
    '--extract',
    '--file',
    file,
    ...TAR_FLAG[o.compression],
    '--directory',
    root,
    '--numeric-owner',
    '--same-owner',
    '--same-permissions',
    '--no-overwrite-dir',
    ...(o.allowSetuid ? ['--xattrs', '--xattrs-include=security.capability'] : ['--no-xattrs']),
    '--warning=no-unknown-keyword',
    `--checkpoint=${CHECKPOINT_RECORDS}`,
    '--checkpoint-action=echo=hangar-checkpoint %u',
  ];
  try {
    const r = await run(argv, {
      signal: stop.signal,
      timeoutMs: 60 * 60_000,
      onLine: (l) => {
        const m = /hangar-checkpoint (\d+)/.exec(l);
        if (m) o.progress(Math.min(1, Number(m[1]) / records));
      },
    });
    o.signal.throwIfAborted();
    if (full) throw new TarRefusal(`the data dir's disk is nearly full (less than ${Math.round(o.reserveBytes / 2 ** 20)} MiB free): extraction stopped`);
    if (r.code !== 0) throw new Error(`tar failed (exit ${r.code}): ${firstLine(r.stderr.replace(/^.*hangar-checkpoint.*\n/gm, ''))}`);
  } finally {
    clearInterval(watch);
    o.signal.removeEventListener('abort', onAbort);
  }
}
