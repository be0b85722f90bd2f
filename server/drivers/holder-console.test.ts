import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NspawnDriver } from './nspawn/driver';
import { PodmanDriver } from './podman/driver';
import { holderFiles } from './shared/holder-files';

const spec = { id: 'mch_abc', name: 'ct-1', dir: '', layers: '/data/layers', cpus: 1, memoryMib: 256, diskGib: 2, ports: [], runtime: {} };

/** A process that looks like a console holder to Hangar (its command line says holder.js). */
const fakeHolder = () => spawn('bash', ['-c', 'exec -a holder.js sleep 30'], { stdio: 'ignore' });

describe.each([
  ['nspawn', () => new NspawnDriver()],
  ['podman', () => new PodmanDriver()],
])('a %s console', (_name, driver) => {
  it('ends with the holder it was opened on, even when a new holder takes its place within one poll (a restart)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holder-console-'));
    const old = fakeHolder();
    const next = fakeHolder();
    const pids = (holder: number) => fs.writeFileSync(holderFiles(dir).pid, JSON.stringify({ holder, child: holder }));
    try {
      for (const p of [old, next]) await vi.waitFor(() => expect(fs.readFileSync(`/proc/${p.pid}/cmdline`, 'latin1')).toContain('holder.js'));
      fs.writeFileSync(holderFiles(dir).log, 'old holder\n');
      pids(old.pid!);
      const d = driver();
      const con = d.openConsole({ ...spec, dir });
      let exited: number | null | undefined;
      con.onExit((code) => (exited = code));
      // The old holder records its command's end and goes; the new one's pids are written at once.
      fs.writeFileSync(holderFiles(dir).exit, JSON.stringify({ code: 0 }));
      old.kill('SIGKILL');
      await new Promise((r) => old.once('exit', r));
      pids(next.pid!);
      expect(d.isRunning({ ...spec, dir })).toBe(true);
      await vi.waitFor(() => expect(exited).toBe(0), { timeout: 2000 });
      con.close();
    } finally {
      old.kill('SIGKILL');
      next.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
