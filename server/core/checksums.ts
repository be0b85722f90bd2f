import fs from 'node:fs';
import path from 'node:path';
import { firstLine, run } from '@/server/drivers/exec';

const SUMS = 'SHA256SUMS';

/** SHA-256 of a file by openssl (SHA-NI where the CPU has it), off the server's event loop: RAM files are large. */
export async function sha256File(file: string, background = false): Promise<string> {
  // In the background (RAM files summed after a checkpoint) it yields the CPU and disk to machines.
  const r = await run([...(background ? ['nice', '-n', '19', 'ionice', '-c', '3'] : []), 'openssl', 'dgst', '-sha256', '-r', '--', file], {
    timeoutMs: 300_000,
  });
  const hex = /^([0-9a-f]{64}) /.exec(r.stdout)?.[1];
  if (r.code !== 0 || !hex) throw new Error(`checksum of ${path.basename(file)} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  return hex;
}

/**
 * Add checksums of the named files of `dir` (those present and not summed yet) to its
 * `SHA256SUMS` (the `sha256sum -c` format), rewritten atomically. Returns the names summed.
 */
export async function addChecksums(dir: string, names: string[], background = false): Promise<string[]> {
  const sums = readChecksums(dir);
  const todo = names.filter((n) => !sums.has(n) && fs.existsSync(path.join(dir, n)));
  for (const [n, hex] of await Promise.all(todo.map(async (n) => [n, await sha256File(path.join(dir, n), background)] as const))) sums.set(n, hex);
  const tmp = path.join(dir, `.${SUMS}.${process.pid}.part`);
  fs.writeFileSync(tmp, [...sums].map(([n, hex]) => `${hex}  ${n}\n`).join(''), { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, SUMS));
  return todo;
}

export function readChecksums(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, SUMS), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) {2}([\w.-]+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

/**
 * Check the named files against `SHA256SUMS`; every file listed must match, and each of
 * `required` must be listed. Throws with the first mismatch.
 */
export async function verifyChecksums(dir: string, only?: string[], required: string[] = []): Promise<void> {
  const sums = readChecksums(dir);
  for (const r of required) if (!sums.has(r)) throw new Error(`${r}: no checksum recorded`);
  for (const [name, want] of sums) {
    if (only && !only.includes(name)) continue;
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new Error(`${name}: missing`);
    if ((await sha256File(file)) !== want) throw new Error(`${name}: checksum mismatch (the file is damaged)`);
  }
}
