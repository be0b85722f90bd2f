import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { liveCheckpoint, resume, waitMigration } from '@/server/drivers/qemu/snapshot';

/**
 * Live checkpoints on a real qemu that came out of an incoming migration (its `events` migration
 * capability on, as a restore leaves it): QEMU says `completed` a moment before it accepts `cont`,
 * and a checkpoint that sent `cont` at once left about one guest in thirty paused on this host (a
 * build's next exec then waited for ever). Each checkpoint must leave the guest running.
 */
let dir: string;
let qemu: ChildProcess;
const qmpSock = () => path.join(dir, 'qmp.sock');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-qmp-int-'));
  const mk = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', path.join(dir, 'base.qcow2'), '1G'], { timeoutMs: 30_000 });
  expect(mk.code, mk.stderr).toBe(0);
  qemu = spawn(
    'qemu-system-x86_64',
    [
      '-machine',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '64',
      '-display',
      'none',
      '-nodefaults',
      '-drive',
      `file=${path.join(dir, 'base.qcow2')},if=virtio,format=qcow2`,
      '-qmp',
      `unix:${qmpSock()},server=on,wait=off`,
    ],
    { stdio: 'ignore' },
  );
  // The socket appears a moment before qemu listens on it.
  let q: Qmp | null = null;
  for (let i = 0; !q; i++) {
    q = await Qmp.connect(qmpSock()).catch((err: Error) => {
      if (i > 500 || qemu.exitCode !== null) throw err;
      return new Promise<null>((r) => setTimeout(() => r(null), 10));
    });
  }
  expect(await q.execute('query-status')).toMatchObject({ running: true });
  q.close();
}, 60_000);

afterAll(async () => {
  qemu?.kill('SIGKILL');
  if (qemu && qemu.exitCode === null) await new Promise((r) => qemu.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const eventsOn = (q: Qmp) => q.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });

describe('live checkpoints on real QEMU', () => {
  it('resume() runs the guest again after every save, even with the events capability on', async () => {
    const q = await Qmp.connect(qmpSock());
    await eventsOn(q);
    try {
      for (let i = 0; i < 60; i++) {
        await q.execute('stop');
        await q.execute('migrate', { uri: `exec:cat > ${path.join(dir, 'state')}` });
        await waitMigration(q, 60_000);
        await resume(q);
        expect(await q.execute('query-status'), `save ${i}`).toMatchObject({ running: true, status: 'running' });
      }
    } finally {
      q.close();
    }
  }, 240_000);

  it('leave the guest running, and the events capability off, every time', async () => {
    let disk = path.join(dir, 'base.qcow2');
    for (let i = 0; i < 10; i++) {
      const pre = await Qmp.connect(qmpSock());
      await eventsOn(pre);
      pre.close();
      const next = path.join(dir, `layer-${i}.qcow2`);
      const out = path.join(dir, `snap-${i}`);
      fs.mkdirSync(out);
      const r = await liveCheckpoint(qmpSock(), { path: '', shared: false }, disk, next, 1, out);
      expect(r.resumeError).toBeUndefined();
      const q = await Qmp.connect(qmpSock());
      expect(await q.execute('query-status')).toMatchObject({ running: true, status: 'running' });
      const caps = await q.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities');
      expect(caps.find((c) => c.capability === 'events')?.state).toBe(false);
      q.close();
      fs.rmSync(out, { recursive: true, force: true });
      disk = next;
    }
  }, 240_000);
});
