import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh directory (fs.mkdtempSync: `prefix` and six random characters) under `parent`, the
 * system's temp dir unless given, removed with what it holds when the test that made it ends,
 * passed or failed: a CLI's XDG_CONFIG_HOME, files a test writes. Only inside a test (it), not a hook.
 */
export function testTempDir(prefix: string, parent = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
