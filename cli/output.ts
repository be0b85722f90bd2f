import fs from 'node:fs';
import { ApiError } from '@/lib/client/api-error';

/** A failure the user can act on: printed without a stack trace, exit code 1 (or as given). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** `--limit N` and `--cursor C` of a listing command, checked. */
export function pageArgs(values: { limit?: string; cursor?: string }, max = 1000): { limit?: number; cursor?: string } {
  if (values.limit === undefined) {
    if (values.cursor !== undefined) throw new CliError('--cursor goes with --limit (the page size).', 2);
    return {};
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new CliError(`--limit: 1 to ${max}`, 2);
  return { limit, ...(values.cursor ? { cursor: values.cursor } : {}) };
}

/** On stderr, so the listing itself stays clean for scripts: how to get the next page. */
export function printNextPage(next: string | null, command: string, limit: number | undefined): void {
  if (next && limit !== undefined) console.error(`More: ${command} --limit ${limit} --cursor ${next}`);
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of its path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** Why a local file could not be made or written, in words (a raw errno's message otherwise). */
export const fileProblem = (err: unknown): string => FILE_ERRORS[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;

/**
 * `file`'s download, opened before anything is fetched: `FILE.part` for writing, renamed to `file` by `done()`, removed by
 * `abandon()` (a failed or cut download leaves nothing). A file that cannot be written is a CliError naming it, not a raw errno.
 */
export function openDownload(file: string): { fd: number; done: () => void; abandon: () => void } {
  const part = `${file}.part`;
  let fd: number;
  try {
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    fd = fs.openSync(part, 'w', 0o644);
  } catch (err) {
    throw new CliError(`Cannot write ${file}: ${fileProblem(err)}.`);
  }
  return { fd, done: () => fs.renameSync(part, file), abandon: () => fs.rmSync(part, { force: true }) };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const issues = err.issues?.map((i) => `\n  ${i.path}: ${i.message}`).join('') ?? '';
    if (err.status === 401) return `${err.message}\nRun \`hangar login\` first.`;
    return `${err.message}${issues}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
