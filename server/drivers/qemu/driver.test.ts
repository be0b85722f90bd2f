import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { QemuDriver } from './driver';

/** A process that looks like a qemu to Hangar (its command line says qemu-system). */
const fakeQemu = () => spawn('bash', ['-c', 'exec -a qemu-system-x86_64 sleep 30'], { stdio: 'ignore' });

describe('QemuDriver.isReady', () => {
  it("looks for the ready marker in this boot's part of the serial log only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-ready-'));
    const log = path.join(dir, 'serial.log');
    fs.writeFileSync(log, 'boot 1\nhangar-ready m\npoweroff\n');
    const spec = { id: 'mch_x', name: 'm', dir, layers: dir, cpus: 1, memoryMib: 64, diskGib: 1, ports: [], runtime: { serialFrom: fs.statSync(log).size } };
    const d = new QemuDriver();
    expect(d.isReady(spec)).toBe(false);
    fs.appendFileSync(log, 'boot 2\n');
    expect(d.isReady(spec)).toBe(false);
    fs.appendFileSync(log, 'hangar-ready m\n');
    expect(d.isReady(spec)).toBe(true);
    expect(d.isReady({ ...spec, runtime: {} })).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('QemuDriver.openConsole', () => {
  it('ends with the process it was opened on, even when another takes its place within one poll (a restore)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-console-'));
    fs.writeFileSync(path.join(dir, 'serial.log'), 'old process\n');
    const old = fakeQemu();
    const next = fakeQemu();
    try {
      await vi.waitFor(() => expect(fs.readFileSync(`/proc/${old.pid}/cmdline`, 'latin1')).toContain('qemu-system'));
      await vi.waitFor(() => expect(fs.readFileSync(`/proc/${next.pid}/cmdline`, 'latin1')).toContain('qemu-system'));
      fs.writeFileSync(path.join(dir, 'qemu.pid'), `${old.pid}\n`);
      const spec = { id: 'mch_x', name: 'm', dir, layers: dir, cpus: 1, memoryMib: 64, diskGib: 1, ports: [], runtime: {} };
      const d = new QemuDriver();
      const con = d.openConsole(spec);
      let exited = false;
      con.onExit(() => (exited = true));
      // The old process goes and the new one's pid is written at once: a machine is running all along.
      old.kill('SIGKILL');
      await new Promise((r) => old.once('exit', r));
      fs.writeFileSync(path.join(dir, 'qemu.pid'), `${next.pid}\n`);
      expect(d.isRunning(spec)).toBe(true);
      await vi.waitFor(() => expect(exited).toBe(true), { timeout: 2000 });
      con.close();
    } finally {
      old.kill('SIGKILL');
      next.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
