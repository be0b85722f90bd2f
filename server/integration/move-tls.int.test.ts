import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@/server/drivers/exec';
import { freePort } from '@/server/drivers/qemu/move';
import { moveKey, moveTlsOff, moveTlsOn, MOVE_TLS_ID } from '@/server/drivers/qemu/move-tls';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { waitMigration } from '@/server/drivers/qemu/snapshot';

/**
 * The TLS a live move between nodes puts on its two streams (move-tls.ts), on real qemus without a
 * guest: the receiving side's NBD export refuses a client without TLS and one with another key, and
 * serves one with the move's key; a migration stream without TLS is refused by the waiting qemu; with
 * the key, the disk is mirrored and the machine migrated; after the move the machine checkpoints to a
 * file again (TLS off). cluster-move.int moves real guests through the same code between two nodes.
 */
let dir: string;
const qemus: ChildProcess[] = [];

/** A qemu without a guest, its one disk named `disk0` in the block graph; `incoming` waits for a migration. */
async function bareQemu(name: string, incoming: boolean): Promise<{ proc: ChildProcess; qmp: () => Promise<Qmp> }> {
  const disk = path.join(dir, `${name}.qcow2`);
  const mk = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M'], { timeoutMs: 30_000 });
  expect(mk.code, mk.stderr).toBe(0);
  const sock = path.join(dir, `${name}.qmp`);
  const proc = spawn(
    'qemu-system-x86_64',
    [
      ...['-machine', 'q35', '-accel', 'tcg', '-m', '64', '-display', 'none', '-nodefaults'],
      ...['-blockdev', `driver=file,filename=${disk},node-name=file0`, '-blockdev', 'driver=qcow2,file=file0,node-name=disk0'],
      ...['-device', 'virtio-blk-pci,drive=disk0', '-qmp', `unix:${sock},server=on,wait=off`],
      ...(incoming ? ['-incoming', 'defer'] : []),
    ],
    { stdio: 'ignore' },
  );
  qemus.push(proc);
  const qmp = async () => {
    for (let i = 0; ; i++) {
      const q = await Qmp.connect(sock).catch((err: Error) => {
        if (i > 500 || proc.exitCode !== null) throw err;
        return null;
      });
      if (q) return q;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  (await qmp()).close();
  return { proc, qmp };
}

/** The receiving side of a move: TLS on with `key`, waiting for the migration, disk0 exported over NBD. */
async function receiver(name: string, key: string) {
  const r = await bareQemu(name, true);
  const ports = { migrate: await freePort('127.0.0.1'), nbd: await freePort('127.0.0.1') };
  const q = await r.qmp();
  await moveTlsOn(q, path.join(dir, `${name}-tls`), key, 'server');
  await q.execute('migrate-incoming', { uri: `tcp:127.0.0.1:${ports.migrate}` });
  await q.execute('nbd-server-start', { addr: { type: 'inet', data: { host: '127.0.0.1', port: String(ports.nbd) } }, 'tls-creds': MOVE_TLS_ID });
  await q.execute('block-export-add', { type: 'nbd', id: 'x', 'node-name': 'disk0', name: 'hangar-move', writable: true });
  return { ...r, q, ports };
}

/** `qemu-img info` of the export, plain or with TLS and a key. */
async function nbdInfo(port: number, key?: string) {
  if (!key) return run(['qemu-img', 'info', `nbd://127.0.0.1:${port}/hangar-move`], { timeoutMs: 30_000 });
  const keys = fs.mkdtempSync(path.join(dir, 'client-'));
  fs.writeFileSync(path.join(keys, 'keys.psk'), `hangar-move:${key}\n`, { mode: 0o600 });
  return run(
    [
      'qemu-img',
      'info',
      '--object',
      `tls-creds-psk,id=t0,dir=${keys},endpoint=client,username=hangar-move`,
      '--image-opts',
      `driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=${port},export=hangar-move,tls-creds=t0`,
    ],
    { timeoutMs: 30_000 },
  );
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-move-tls-'));
});

afterAll(async () => {
  for (const p of qemus) {
    p.kill('SIGKILL');
    if (p.exitCode === null) await new Promise((r) => p.once('exit', r));
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a live move's streams take TLS with a key for that move only", () => {
  it('the export refuses a client without TLS or with another key, and serves one with the key', async () => {
    const key = moveKey();
    const r = await receiver('recv-nbd', key);
    try {
      const plain = await nbdInfo(r.ports.nbd);
      expect(plain.code).not.toBe(0);
      expect(plain.stderr).toMatch(/TLS/i);
      const wrong = await nbdInfo(r.ports.nbd, moveKey());
      expect(wrong.code).not.toBe(0);
      const right = await nbdInfo(r.ports.nbd, key);
      expect(right.code, right.stderr).toBe(0);
      expect(right.stdout).toMatch(/virtual size: 64 MiB/);
      expect(fs.statSync(path.join(dir, 'recv-nbd-tls', 'keys.psk')).mode & 0o777).toBe(0o600);
    } finally {
      r.q.close();
    }
  }, 60_000);

  it('a migration stream without TLS is refused by the waiting qemu', async () => {
    const r = await receiver('recv-plain', moveKey());
    r.q.close();
    const s = await bareQemu('send-plain', false);
    const q = await s.qmp();
    try {
      await q.execute('migrate', { uri: `tcp:127.0.0.1:${r.ports.migrate}` });
      await expect(waitMigration(q, 30_000)).rejects.toThrow();
      expect(await q.execute('query-status')).toMatchObject({ running: true });
    } finally {
      q.close();
    }
  }, 60_000);

  it('with the key the disk is mirrored and the machine migrated; afterwards it checkpoints to a file again', async () => {
    const key = moveKey();
    const r = await receiver('recv-ok', key);
    const s = await bareQemu('send-ok', false);
    const q = await s.qmp();
    const out = path.join(dir, 'send-ok-tls');
    try {
      await moveTlsOn(q, out, key, 'client');
      await q.execute('blockdev-add', {
        driver: 'nbd',
        'node-name': 'target',
        server: { type: 'inet', host: '127.0.0.1', port: String(r.ports.nbd) },
        export: 'hangar-move',
        'tls-creds': MOVE_TLS_ID,
      });
      await q.execute('blockdev-mirror', { 'job-id': 'm', device: 'disk0', target: 'target', sync: 'full' });
      for (let i = 0; ; i++) {
        const jobs = await q.execute<{ device: string; ready?: boolean }[]>('query-block-jobs');
        if (jobs.find((j) => j.device === 'm')?.ready) break;
        if (i > 600) throw new Error('the mirror never got in step');
        await new Promise((res) => setTimeout(res, 50));
      }
      await q.execute('migrate', { uri: `tcp:127.0.0.1:${r.ports.migrate}` });
      await waitMigration(q, 60_000);
      await q.execute('block-job-cancel', { device: 'm' });
      for (let i = 0; ; i++) {
        const st = await r.q.execute<{ status: string }>('query-status');
        if (st.status === 'running') break;
        if (i > 600) throw new Error(`the receiver is ${st.status}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      await r.q.execute('nbd-server-stop');
      await moveTlsOff(r.q, path.join(dir, 'recv-ok-tls'));
      expect(fs.existsSync(path.join(dir, 'recv-ok-tls'))).toBe(false);
      const params = await r.q.execute<{ 'tls-creds'?: string }>('query-migrate-parameters');
      expect(params['tls-creds'] ?? '').toBe('');
      // The moved machine's next checkpoint: a migration to a file, which TLS left on would break.
      await r.q.execute('migrate', { uri: `exec:cat > ${path.join(dir, 'state')}` });
      await waitMigration(r.q, 60_000);
      expect(fs.statSync(path.join(dir, 'state')).size).toBeGreaterThan(0);
    } finally {
      q.close();
      r.q.close();
    }
  }, 120_000);
});
