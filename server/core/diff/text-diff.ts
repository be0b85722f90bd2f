import fs from 'node:fs';
import type { FileDiff } from '@/lib/contracts/diff';
import { run } from '@/server/drivers/exec';

/** Larger files are not shown as text. */
export const MAX_TEXT_BYTES = 64 * 1024;

/** Why a side cannot be shown as text, or null. */
function notText(file: string | null): string | null {
  if (!file) return null;
  const st = fs.lstatSync(file);
  if (!st.isFile()) return 'not a regular file';
  if (st.size > MAX_TEXT_BYTES) return `larger than ${MAX_TEXT_BYTES / 1024} KiB`;
  if (fs.readFileSync(file).includes(0)) return 'binary (it holds NUL bytes)';
  return null;
}

/** A unified diff of two small text files (null: that side has no such file), made by diff(1). */
export async function textDiff(path: string, a: string | null, b: string | null): Promise<FileDiff> {
  if (!a && !b) return { path, unified: null, reason: 'neither side has this file' };
  const why = notText(a) ?? notText(b);
  if (why) return { path, unified: null, reason: why };
  const r = await run(['diff', '-u', '--label', `a${path}`, '--label', `b${path}`, '--', a ?? '/dev/null', b ?? '/dev/null'], {
    timeoutMs: 30_000,
  });
  if (r.code === 0) return { path, unified: '', reason: 'the contents are the same' };
  if (r.code !== 1) throw new Error(`diff failed: ${r.stderr.trim().split('\n')[0]}`);
  return { path, unified: r.stdout, reason: null };
}
