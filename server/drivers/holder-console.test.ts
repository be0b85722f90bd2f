import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NspawnDriver } from './nspawn/driver';
import { PodmanDriver } from './podman/driver';
import { holderFiles } from './shared/holder-files';
import type { ConsoleSource } from './types';

const spec = { id: 'mch_abc', name: 'ct-1', dir: '', layers: '/data/layers', cpus: 1, memoryMib: 256, diskGib: 2, ports: [], runtime: {} };

/** A process that looks like a console holder to Hangar (its command line says holder.js). */
const fakeHolder = () => spawn('bash', ['-c', 'exec -a holder.js sleep 30'], { stdio: 'ignore' });

describe.each([
  ['nspawn', () => new NspawnDriver()],
  ['podman', () => new PodmanDriver()],
])('a %s console', (_name, driver) => {
  it('ends at once when a new holder takes its place within one poll (a restart), though a holder runs all along', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holder-console-'));
    const old = fakeHolder();
    const next = fakeHolder();
    const pids = (holder: number) => fs.writeFileSync(holderFiles(dir).pid, JSON.stringify({ holder, child: holder }));
    let con: ConsoleSource | null = null;
    try {
      // Exec'd: bash's own command line says holder.js too, so look for it as the program's name.
      for (const p of [old, next]) await vi.waitFor(() => expect(fs.readFileSync(`/proc/${p.pid}/cmdline`, 'latin1')).toMatch(/^holder\.js\0/));
      fs.writeFileSync(holderFiles(dir).log, 'old holder\n');
      fs.writeFileSync(holderFiles(dir).exit, JSON.stringify({ code: 0 }));
      pids(old.pid!);
      const d = driver();
      con = d.openConsole({ ...spec, dir });
      let exited: number | null | undefined;
      con.onExit((code) => (exited = code));
      // The new holder starts as a real one does, removing the old one's exit code and writing its pids; then the old goes.
      fs.rmSync(holderFiles(dir).exit);
      pids(next.pid!);
      old.kill('SIGKILL');
      expect(d.isRunning({ ...spec, dir })).toBe(true);
      // Within a poll or two, not after the 5 s an ended holder's exit code is waited for: this one's is gone.
      await vi.waitFor(() => expect(exited).toBeNull(), { timeout: 1000 });
    } finally {
      con?.close();
      old.kill('SIGKILL');
      next.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
