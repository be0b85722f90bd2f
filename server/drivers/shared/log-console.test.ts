import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConsoleSource } from '../types';
import { logConsole } from './log-console';

let dir: string;
/** Consoles opened by a test: closed after it, passed or failed (their poll and watcher would run on). */
const opened: ConsoleSource[] = [];
beforeEach(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-console-'))));
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A console of `log` whose process is whatever `current` says, with what it delivered and whether it ended. */
function open(current: { pid: number | null }) {
  const serialLog = path.join(dir, 'serial.log');
  const con = logConsole({ serialLog }, () => current.pid);
  opened.push(con);
  const seen = { text: '', exited: false };
  con.onData((d) => void (seen.text += d));
  con.onExit(() => void (seen.exited = true));
  return { seen, serialLog };
}

describe('logConsole', () => {
  it('ends when another process takes the place of the one it was opened on, though one runs all along', async () => {
    fs.writeFileSync(path.join(dir, 'serial.log'), 'first\n');
    const current = { pid: 100 as number | null };
    const { seen } = open(current);
    await vi.waitFor(() => expect(seen.text).toBe('first\n'));
    current.pid = 101;
    await vi.waitFor(() => expect(seen.exited).toBe(true), { timeout: 2000 });
  });

  it('opened before its process is known, reads on with the first one a poll sees and ends when it goes', async () => {
    const current = { pid: null as number | null };
    const { seen, serialLog } = open(current);
    current.pid = 7;
    fs.writeFileSync(serialLog, 'booting\n');
    await vi.waitFor(() => expect(seen.text).toBe('booting\n'));
    // Several polls with the same process: still open.
    await new Promise((r) => setTimeout(r, 600));
    expect(seen.exited).toBe(false);
    current.pid = null;
    await vi.waitFor(() => expect(seen.exited).toBe(true), { timeout: 2000 });
  });
});
