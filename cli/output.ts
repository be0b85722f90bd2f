import { ApiError } from '@/lib/api-client';

/** A failure the user can act on: printed without a stack trace, exit code 1 (or as given). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
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
