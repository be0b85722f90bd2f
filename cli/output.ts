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
