import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { jobDone, serverWithBusybox, tearDown, type RunningServer } from './harness';

/**
 * The undo ring on real QEMU (TCG) with the busybox image. The server's clock is the test's
 * (HANGAR_TEST_CLOCK_FILE holds how far it is moved): points are taken through "run now" at
 * clock times the test sets, and "undo the last N minutes" reads the same clock. No real waiting.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
const MIN = 60_000;
const clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-undo-clock-')), 'skew');
let skew = 0;
const advance = (minutes: number) => fs.writeFileSync(clockFile, String((skew += minutes * MIN)));
const finished = async (job: Job) => {
  const j = await jobDone(api, job, 180_000);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const marker = async () => (await api.machines.exec('undo', ['sh', '-c', 'cat /root/marker 2>/dev/null || echo none'])).stdout.trim();

beforeAll(async () => {
  fs.writeFileSync(clockFile, '0');
  ({ srv, api, token } = await serverWithBusybox({ env: { HANGAR_TEST_CLOCK_FILE: clockFile } }));
  await finished(await api.machines.create({ name: 'undo', image: 'busybox', memoryMib: 256 }));
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
  fs.rmSync(path.dirname(clockFile), { recursive: true, force: true });
}, 120_000);

describe('undo ring (busybox, TCG, the clock moved by the test)', () => {
  it('refuses an undo with the ring off, bad settings, and an undo with no point that old', async () => {
    await expect(api.undo.undo('undo', 5)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/undo ring is off/) });
    await expect(api.undo.enable('undo', { everyMinutes: 0, keep: 3 })).rejects.toMatchObject({ status: 400 });
    await expect(api.undo.enable('undo', { everyMinutes: 5, keep: 0 })).rejects.toMatchObject({ status: 400 });
    await expect(api.undo.get('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('fills the ring, prunes the oldest at K, and undo brings back the earlier state', async () => {
    // An hour between points: the server's own timer stays quiet while the test moves the clock by minutes.
    const ring = await api.undo.enable('undo', { everyMinutes: 60, keep: 3 });
    expect(ring).toMatchObject({ everyMinutes: 60, keep: 3, points: [] });
    expect(ring.nextRunAt).toBeGreaterThan(Date.now() + 59 * MIN);
    const sid = ring.scheduleId!;
    const point = async () => {
      const r = (await finished(await api.schedules.run(sid))).result as { taken: string[]; pruned: string[] };
      advance(5);
      return r;
    };
    // No undo point that old yet: a clear 409.
    await expect(api.undo.undo('undo', 5)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/no undo point yet/) });

    const first = await point(); // t0
    const second = await point(); // t0+5, before the file
    expect(await marker()).toBe('none');
    await api.machines.exec('undo', ['sh', '-c', 'echo written > /root/marker; sync']);
    expect(await marker()).toBe('written');
    const third = await point(); // t0+10, with the file
    let view = await api.undo.get('undo');
    expect(view.points.map((p) => p.id)).toEqual([...third.taken, ...second.taken, ...first.taken]);
    const snap = await api.snapshots.get(first.taken[0]);
    expect(snap).toMatchObject({ undoPoint: true, kind: 'live', state: 'complete' });

    // The fourth point turns the ring: the oldest goes (its disk layer stays under the newer ones).
    const fourth = await point(); // t0+15; now t0+20
    expect(fourth.pruned).toEqual(first.taken);
    view = await api.undo.get('undo');
    expect(view.points.map((p) => p.id)).toEqual([...fourth.taken, ...third.taken, ...second.taken]);
    await expect(api.snapshots.get(first.taken[0])).rejects.toMatchObject({ status: 404 });
    expect((await api.snapshots.get(second.taken[0])).parentId).toBe(snap.parentId);

    // Now t0+20: 30 minutes back is before the oldest point kept (t0+5).
    await expect(api.undo.undo('undo', 30)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/oldest undo point is 15 minutes old/) });
    // 12 minutes back is t0+8: the newest point at or before it is the second (t0+5), taken before the file was written.
    await finished(await api.undo.undo('undo', 12));
    expect(await marker()).toBe('none');
    expect((await api.machines.get('undo')).snapshotId).toBe(second.taken[0]);
    expect((await api.machines.exec('undo', ['echo', 'alive'])).stdout.trim()).toBe('alive');
    const audit = (await api.audit.list({ action: 'undo.' })).items.map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['undo.enable', 'undo.restore']));
  }, 600_000);

  it('hangar undo enable|ls|NAME --minutes|disable, bad input named with a non-zero exit', async () => {
    const cli = (args: string[]) =>
      run([process.execPath, 'dist/cli.js', 'undo', ...args], { timeoutMs: 120_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
    expect(await cli(['enable', 'undo', '--every', 'soon', '--keep', '3'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--every soon: minutes/) });
    expect(await cli(['undo'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: hangar undo') });
    const on = await cli(['enable', 'undo', '--every', '2h', '--keep', '4']);
    expect(on).toMatchObject({ code: 0, stdout: expect.stringMatching(/^undo: an undo point every 120 min, keeping 4/) });
    expect((await cli(['ls', 'undo'])).stdout).toMatch(/snp_\S+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}undo undo point/);
    expect(await cli(['undo', '--minutes', '600'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/Nothing to undo 600 minutes back/) });
    expect(await cli(['undo', '--minutes', '12'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^undo: back 12/m) });
    expect(await cli(['disable', 'undo'])).toMatchObject({ code: 0, stdout: 'undo: undo ring off (its 3 undo points stay, as snapshots).\n' });
    expect((await api.undo.get('undo')).everyMinutes).toBeNull();
  }, 300_000);
});
