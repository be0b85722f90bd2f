import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, serialConsole, startServer, until, type RunningServer, tearDown } from './harness';

/**
 * The console timeline on a real busybox VM: a recorded serial console gains markers for the
 * machine's checkpoints, forks and restores, each naming its snapshot, and "Restore here" (the
 * restore API the player's button calls) puts the machine back to the marked snapshot.
 */
let srv: RunningServer;
let api: ApiClient;
let viewerApi: ApiClient;
let token: string;
let machineId: string;
const sockets: Socket[] = [];
const finished = async (job: Job, ms?: number) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const exists = async (file: string) => (await api.machines.exec('tl', ['sh', '-c', 'test -e "$1" && echo yes || echo no', 'x', file])).stdout.trim();

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  viewerApi = client(srv.url, await adminToken(srv.url, 'viewer'));
  await finished(await api.images.build({ kind: 'busybox' }), 240_000);
  await finished(await api.machines.create({ name: 'tl', image: 'busybox', memoryMib: 128, start: false }), 120_000);
  machineId = (await api.machines.get('tl')).id;
  await api.machines.update('tl', { recordConsole: true });
  await finished(await api.machines.act('tl', 'start'), 120_000);
}, 400_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

describe('console timeline', () => {
  it('marks checkpoints, forks and restores in the recording, and "Restore here" returns the machine to the marked snapshot', async () => {
    const c = await serialConsole(srv.url, token, machineId, 'tl-session', sockets);
    expect(c.reply).toMatchObject({ ok: true, recording: true });
    await c.waitFor('hangar-ready');
    // At the shell's prompt: a command typed there is marked.
    await c.waitFor('/# ');
    c.type('echo tl-$((6*7))\n');
    await c.waitFor('tl-42');
    const [rec] = (await api.machines.recordings('tl')).items;
    expect(rec).toMatchObject({ console: 'serial', active: true });

    const c1 = ((await finished(await api.snapshots.checkpoint('tl', 'c1'))).result as { snapshot: string }).snapshot;
    await api.machines.exec('tl', ['sh', '-c', 'echo later > /tmp/after-c1']);
    expect(await exists('/tmp/after-c1')).toBe('yes');
    const fork = await finished(await api.snapshots.fork(c1, { count: 1 }));
    expect((fork.result as { machines: string[] }).machines).toHaveLength(1);

    // Both are on the timeline, each naming the snapshot; a viewer may read them.
    const all = await until(async () => {
      const { items } = await viewerApi.machines.recordingMarkers('tl', rec.id);
      return items.some((m) => m.kind === 'fork') ? items : null;
    }, 'the fork marker');
    // The command typed at the prompt is marked too (no snapshot: nothing to restore).
    expect(all[0]).toEqual({ t: expect.any(Number), kind: 'command', label: 'echo tl-$((6*7))' });
    const live = all.filter((m) => m.kind !== 'command');
    expect(live).toEqual([
      { t: expect.any(Number), kind: 'checkpoint', label: 'c1', snapshotId: c1 },
      { t: expect.any(Number), kind: 'fork', label: 'c1 → 1 fork', snapshotId: c1 },
    ]);
    expect(live[1].t).toBeGreaterThanOrEqual(live[0].t);
    // The player reads the same markers from the file itself: asciicast v2 marker events.
    const cast = await (await fetch(`${srv.url}/api/machines/tl/recordings/${rec.id}`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(cast).toContain(`"m","checkpoint · c1 · ${c1}"]`);
    // The CLI lists the same timeline, snapshot ids included; a bad id is a message and a non-zero exit.
    const env = { XDG_CONFIG_HOME: srv.dataDir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cli = await run([process.execPath, 'dist/cli.js', 'recordings', 'markers', 'tl', rec.id], { env, timeoutMs: 60_000 });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`checkpoint +${c1}  c1\n`));
    const bad = await run([process.execPath, 'dist/cli.js', 'recordings', 'markers', 'tl', 'rec-0000000000000-nope'], { env, timeoutMs: 60_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not found/i);
    await expect(api.machines.recordingMarkers('tl', 'rec-0000000000000-nope')).rejects.toMatchObject({ status: 404 });
    await expect(api.machines.recordingMarkers('tl', '..%2Fx')).rejects.toMatchObject({ status: expect.any(Number) });

    // "Restore here" on the checkpoint marker: the write made after it is gone.
    await finished(await api.snapshots.restore(live[0].snapshotId!, { machine: 'tl' }), 120_000);
    expect(await api.machines.get('tl')).toMatchObject({ state: 'running', snapshotId: c1 });
    expect(await exists('/tmp/after-c1')).toBe('no');

    // The recording ended with the restore (the machine's old process went): it says where it went, after the automatic checkpoint.
    const ended = await until(async () => {
      const r = (await api.machines.recordings('tl')).items.find((x) => x.id === rec.id);
      return r && !r.active ? (await api.machines.recordingMarkers('tl', rec.id)).items.filter((m) => m.kind !== 'command') : null;
    }, 'the recording to end');
    expect(ended.slice(2)).toEqual([
      { t: expect.any(Number), kind: 'checkpoint', label: 'tl before restore', snapshotId: expect.stringMatching(/^snp_/) },
      { t: expect.any(Number), kind: 'restore', label: 'c1', snapshotId: c1 },
    ]);
  }, 300_000);
});
