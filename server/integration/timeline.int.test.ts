import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { createApiClient, type ApiClient as Client } from '@/lib/api-client';
import { adminToken, client, jobDone, serialConsole, socket, startServer, until, type RunningServer, tearDown } from './harness';

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
/** The recording the first test writes (it ends with the restore), and the checkpoint it restores to. */
let recId = '';
let c1 = '';
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
    recId = rec.id;
    expect(rec).toMatchObject({ console: 'serial', active: true });

    c1 = ((await finished(await api.snapshots.checkpoint('tl', 'c1'))).result as { snapshot: string }).snapshot;
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

  it("the restored machine's next recording starts with the restore marker: the timeline reads on across the restore", async () => {
    expect(recId).not.toBe('');
    // The console of the restored machine is a new session: its recording opens with where its state came from.
    const c = await serialConsole(srv.url, token, machineId, 'tl-after-restore', sockets);
    expect(c.reply).toMatchObject({ ok: true, recording: true });
    const first = await until(async () => {
      for (const r of (await api.machines.recordings('tl')).items.filter((x) => x.id !== recId)) {
        const [m] = (await api.machines.recordingMarkers('tl', r.id)).items;
        if (m?.kind === 'restore') return m;
      }
      return null;
    }, 'a recording that starts with the restore marker');
    expect(first).toEqual({ t: expect.any(Number), kind: 'restore', label: 'c1', snapshotId: c1 });
  }, 120_000);

  it('a recording link plays that one recording and its markers, and nothing else; revoked or expired it opens nothing', async () => {
    const made = await api.shares.createForRecording('tl', recId, { expiresInSeconds: 3600, label: 'for review' });
    expect(made.path).toMatch(/^\/r\/hgs_/);
    expect(made.share).toMatchObject({ recordingId: recId, role: 'viewer', state: 'active', label: 'for review' });
    const link: Client = createApiClient({ baseUrl: srv.url, share: made.token });
    const withLink = { 'x-hangar-share': made.token };
    expect(await link.shares.recordingInfo()).toMatchObject({ machine: { name: 'tl' }, recording: { id: recId }, label: 'for review' });
    const cast = await fetch(`${srv.url}/api/share/recording/cast`, { headers: withLink });
    expect(cast.status).toBe(200);
    expect(await cast.text()).toContain(`"m","restore · c1 · ${c1}"]`);
    expect((await link.shares.recordingMarkers()).items).toEqual((await api.machines.recordingMarkers('tl', recId)).items);

    // Nothing else: not another recording, not this one by its machine's routes, not the machine, its console or its screen.
    const other = (await api.machines.recordings('tl')).items.find((r) => r.id !== recId)!;
    for (const p of [
      `/machines/tl/recordings/${other.id}`,
      `/machines/tl/recordings/${recId}`,
      `/machines/tl/recordings/${recId}/markers`,
      '/machines/tl',
      '/share',
      '/machines',
    ])
      expect([p, (await fetch(`${srv.url}/api${p}`, { headers: withLink })).status]).toEqual([p, 403]);
    const bad = await fetch(`${srv.url}/api/machines/tl/recordings/${recId}/shares`, {
      method: 'POST',
      headers: { ...withLink, 'content-type': 'application/json', origin: srv.url },
      body: '{}',
    });
    expect(bad.status).toBe(403);
    const sock = await serialConsole(srv.url, { share: made.token }, machineId, 'tl-link', sockets).catch((e: Error) => e);
    expect(String(sock instanceof Error ? sock.message : sock.reply.ok)).toMatch(/forbidden|false/);
    const events = socket(srv.url, '/events', { share: made.token });
    sockets.push(events);
    expect((await new Promise<Error>((resolve) => events.once('connect_error', resolve))).message).toMatch(/forbidden/);

    // Audited like other share links; listed with the machine's links; revoked, it opens nothing.
    expect((await api.audit.list({ action: 'share.create' })).items[0].detail).toMatchObject({ shareId: made.share.id, recording: recId });
    expect((await api.shares.list('tl')).items.find((x) => x.id === made.share.id)).toMatchObject({ recordingId: recId });
    await api.shares.revoke(made.share.id);
    await expect(link.shares.recordingInfo()).rejects.toMatchObject({ status: 401 });
    expect((await fetch(`${srv.url}/api/share/recording/cast`, { headers: withLink })).status).toBe(401);

    // Expired: the same answer (the shortest expiry is 5 s).
    const brief = await api.shares.createForRecording('tl', recId, { expiresInSeconds: 5 });
    const briefLink = createApiClient({ baseUrl: srv.url, share: brief.token });
    await until(
      () =>
        briefLink.shares.recordingMarkers().then(
          () => null,
          (e: { status?: number }) => e.status === 401 || null,
        ),
      'the link to expire',
      30_000,
      500,
    );
    // A recording that does not exist cannot be shared; the CLI makes a link and revokes it.
    await expect(api.shares.createForRecording('tl', 'rec-0000000000000-nope', {})).rejects.toMatchObject({ status: 404 });
    const env = { XDG_CONFIG_HOME: srv.dataDir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cli = await run([process.execPath, 'dist/cli.js', 'recordings', 'share', 'tl', recId, '--expires', '2h'], { env, timeoutMs: 60_000 });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`Link \\(shown once\\): ${srv.url}/r/hgs_`));
    const id = cli.stdout.match(/Made (shr_[a-z0-9]+)/)![1];
    const revoked = await run([process.execPath, 'dist/cli.js', 'recordings', 'revoke', id], { env, timeoutMs: 60_000 });
    expect(revoked.code).toBe(0);
    expect((await api.shares.list('tl')).items.find((x) => x.id === id)?.state).toBe('revoked');
  }, 120_000);
});
