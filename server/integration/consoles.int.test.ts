import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { AttachReply, KeyboardReply } from '@/lib/contracts/console';
import { adminToken, client, jobDone, serialConsole, startServer, until, type RunningServer, tearDown } from './harness';

/**
 * Shared consoles on a real busybox VM: who watches (presence), the keyboard taken, handed
 * over and freed (enforced by the server, not the page), and sessions recorded as asciicast
 * files that are listed, served, deleted and confined to the data dir.
 */
let srv: RunningServer;
let api: ApiClient;
let viewerApi: ApiClient;
let token: string;
let viewerToken: string;
let machineId: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  viewerToken = await adminToken(srv.url, 'viewer');
  api = client(srv.url, token);
  viewerApi = client(srv.url, viewerToken);
  expect((await jobDone(api, await api.images.build({ kind: 'busybox' }), 240_000)).error).toBeNull();
  expect((await jobDone(api, await api.machines.create({ name: 'rec-a', image: 'busybox', memoryMib: 128, start: false }), 120_000)).error).toBeNull();
  machineId = (await api.machines.get('rec-a')).id;
}, 400_000);

afterAll(() => tearDown(srv, api, sockets), 120_000);

const keyboard = (s: Socket, sessionId: string, action: string, to?: string) =>
  new Promise<KeyboardReply>((r) => s.emit('keyboard', { sessionId, action, to }, r));

describe('console sessions', () => {
  it('records a machine console as asciicast when the machine says so, and serves, lists and deletes it', async () => {
    // Only operators (or owners) change the setting.
    await expect(viewerApi.machines.update('rec-a', { recordConsole: true })).rejects.toMatchObject({ status: 403 });
    await expect(api.machines.update('rec-a', { recordConsole: 'yes' as never })).rejects.toMatchObject({ status: 400 });
    await expect(api.machines.update('rec-a', { recordConsole: true, name: 'x' } as never)).rejects.toMatchObject({ status: 400 });
    expect((await api.machines.update('rec-a', { recordConsole: true })).recordConsole).toBe(true);
    expect((await jobDone(api, await api.machines.act('rec-a', 'start'))).error).toBeNull();
    const c = await serialConsole(srv.url, token, machineId, 'rec-session-1', sockets);
    expect(c.reply).toMatchObject({ ok: true, recording: true });
    await c.waitFor('hangar-ready');
    // At the shell's prompt: a command typed there is marked.
    await c.waitFor('/# ');
    c.type('echo rec-$((6*7))-done\n');
    await c.waitFor('rec-42-done');
    const live = (await api.machines.recordings('rec-a')).items;
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ console: 'serial', active: true });
    // Stopping the machine ends the session: the file is complete.
    expect((await jobDone(api, await api.machines.act('rec-a', 'stop', { force: true }))).error).toBeNull();
    const [rec] = await until(async () => {
      const items = (await api.machines.recordings('rec-a')).items;
      return items.length === 1 && !items[0].active ? items : null;
    }, 'the recording to be finished');
    expect(rec.durationS).toBeGreaterThan(0);
    // A viewer may watch it; the file is asciicast v2: a header, then timed output events.
    const res = await fetch(`${srv.url}/api/machines/rec-a/recordings/${rec.id}?download=1`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`rec-a-${rec.id}.cast`);
    const lines = (await res.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ version: 2, width: 80, height: 24 });
    const events = lines.slice(1) as [number, string, string][];
    expect(events.every(([t, kind]) => typeof t === 'number' && (kind === 'o' || kind === 'r' || kind === 'm'))).toBe(true);
    // The command typed at the prompt is a marker on the recording's timeline.
    expect(events.filter((e) => e[1] === 'm').map((e) => e[2])).toEqual(['command · echo rec-$((6*7))-done']);
    expect(events.map((e) => e[2]).join('')).toContain('rec-42-done');
    for (let i = 1; i < events.length; i++) expect(events[i][0]).toBeGreaterThanOrEqual(events[i - 1][0]);
    // Names that are not recording ids never become paths.
    for (const bad of ['..%2F..%2Fhangar.db', 'rec-1-x', `${rec.id}.cast`, 'rec-0000000000000-nope']) {
      const r = await fetch(`${srv.url}/api/machines/rec-a/recordings/${bad}`, { headers: { authorization: `Bearer ${token}` } });
      expect([400, 404], bad).toContain(r.status);
      expect((await r.json()).error.code).toBeTruthy();
    }
    await expect(viewerApi.machines.deleteRecording('rec-a', rec.id)).rejects.toMatchObject({ status: 403 });
    expect(await api.machines.deleteRecording('rec-a', rec.id)).toEqual({ ok: true });
    expect((await api.machines.recordings('rec-a')).items).toEqual([]);
    await expect(api.machines.deleteRecording('rec-a', rec.id)).rejects.toMatchObject({ status: 404 });
    // Off again: the next session is not recorded.
    await api.machines.update('rec-a', { recordConsole: false });
    expect((await jobDone(api, await api.machines.act('rec-a', 'start'))).error).toBeNull();
    const c2 = await serialConsole(srv.url, token, machineId, 'rec-session-2', sockets);
    expect(c2.reply).toMatchObject({ ok: true, recording: false });
    expect((await api.machines.recordings('rec-a')).items).toEqual([]);
    expect(fs.readdirSync(path.join(srv.dataDir, 'recordings', machineId))).toEqual([]);
    c2.s.disconnect();
  }, 180_000);

  it('a serial console refused while its machine is stopped is told to attach again when it runs, and then attaches', async () => {
    if ((await api.machines.get('rec-a')).state !== 'stopped')
      expect((await jobDone(api, await api.machines.act('rec-a', 'stop', { force: true }))).error).toBeNull();
    const c = await serialConsole(srv.url, token, machineId, 'wait-session', sockets);
    expect(c.reply).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const retries: string[] = [];
    c.s.on('retry', (m: { sessionId: string }) => retries.push(m.sessionId));
    // Another session of the socket that stopped waiting (detached) is not told.
    const other = await new Promise<AttachReply>((r) =>
      c.s.emit('attach', { sessionId: 'gave-up', target: { kind: 'machine', machineId, channel: 'serial' } }, r),
    );
    expect(other).toMatchObject({ ok: false });
    c.s.emit('detach', { sessionId: 'gave-up' });
    expect((await jobDone(api, await api.machines.act('rec-a', 'start'))).error).toBeNull();
    await until(() => retries.length > 0, 'the retry');
    expect(retries).toEqual(['wait-session']);
    const again = await new Promise<AttachReply>((r) =>
      c.s.emit('attach', { sessionId: 'wait-session', target: { kind: 'machine', machineId, channel: 'serial' } }, r),
    );
    expect(again).toMatchObject({ ok: true });
    // The machine's boot, from its start: in the replay, or still to come.
    await until(() => `${again.ok ? again.replay : ''}${c.text()}`.includes('hangar-ready'), 'the booted console');
    c.s.disconnect();
  }, 120_000);

  it('shows who watches, and the keyboard is taken, handed over and freed; the server drops the keys of those without it', async () => {
    const m = await api.machines.get('rec-a');
    if (m.state !== 'running') expect((await jobDone(api, await api.machines.act('rec-a', 'start'))).error).toBeNull();
    const a = await serialConsole(srv.url, token, machineId, 'kb-session-a', sockets);
    const pa = a.presence;
    const b = await serialConsole(srv.url, token, machineId, 'kb-session-b', sockets);
    const pb = b.presence;
    const v = await serialConsole(srv.url, viewerToken, machineId, 'kb-session-v', sockets);
    const pv = v.presence;
    await a.waitFor('hangar-ready');
    await until(() => pv()?.count === 3 && pa()?.count === 3, 'three viewers');
    expect(
      pv()!
        .viewers.map((x) => x.mode)
        .sort(),
    ).toEqual(['interactive', 'interactive', 'readonly']);
    const you = { a: pa()!.you, b: pb()!.you, v: pv()!.you };
    expect(new Set(Object.values(you)).size).toBe(3);
    // A viewer cannot take it; bad payloads are refused with a reason.
    expect(await keyboard(v.s, 'kb-session-v', 'take')).toMatchObject({ ok: false });
    expect(await keyboard(a.s, 'kb-session-a', 'steal')).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await keyboard(a.s, 'never-attached', 'take')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await keyboard(a.s, 'kb-session-a', 'take')).toEqual({ ok: true });
    await until(() => pb()?.keyboard === you.a, 'b to see a holding the keyboard');
    b.type('echo from-b-$((1+1))\n');
    a.type('echo from-a-$((2+2))\n');
    await a.waitFor('from-a-4');
    expect(await keyboard(b.s, 'kb-session-b', 'take')).toMatchObject({ ok: false });
    expect(await keyboard(a.s, 'kb-session-a', 'give', you.v)).toMatchObject({ ok: false });
    expect(await keyboard(a.s, 'kb-session-a', 'give', you.b)).toEqual({ ok: true });
    await until(() => pa()?.keyboard === you.b, 'a to see b holding it');
    b.type('echo from-b-$((3+3))\n');
    await a.waitFor('from-b-6');
    // b's keys while a held the keyboard never reached the machine.
    expect(a.text()).not.toContain('from-b-2');
    // The holder leaves: free for all again.
    b.s.disconnect();
    await until(() => pa()?.keyboard === null && pa()?.count === 2, 'the keyboard to be free');
    a.type('echo free-$((4+4))\n');
    await a.waitFor('free-8');
  }, 120_000);
});
