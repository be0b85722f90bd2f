import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { AttachReply, ConsoleOutput } from '@/lib/contracts/console';
import type { Job, JobLogLine } from '@/lib/contracts/jobs';
import { adminToken, client, connected, loginCookie, type RunningServer, socket, startServer, tearDown, until } from './harness';

let srv: RunningServer;
let token: string;
const open: Socket[] = [];

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
});
afterEach(() => {
  for (const s of open.splice(0)) s.disconnect();
});
afterAll(async () => {
  await tearDown(srv, undefined);
});

function track(s: Socket) {
  open.push(s);
  return s;
}

describe('/events', () => {
  it('pushes job progress, log lines and the result', async () => {
    const s = track(socket(srv.url, '/events', { token }));
    await connected(s);
    const updates: Job[] = [];
    const logs: JobLogLine[] = [];
    s.on('job:update', (j: Job) => updates.push(j));
    s.on('job:log', (m: { jobId: string; lines: JobLogLine[] }) => logs.push(...m.lines));
    const job = await client(srv.url, token).jobs.demo({ seconds: 0.5, steps: 5 });
    await until(() => updates.find((u) => u.id === job.id && u.state === 'succeeded'), 'job to succeed');
    const mine = updates.filter((u) => u.id === job.id);
    expect(mine.map((u) => u.progress)).toEqual([...mine.map((u) => u.progress)].sort((a, b) => a - b));
    expect(mine.some((u) => u.progress > 0 && u.progress < 100)).toBe(true);
    await until(() => logs.length >= 5, 'log lines');
    expect(logs.map((l) => l.line)).toContain('step 5/5 done');
  });

  it('turns away anonymous sockets and foreign origins using our cookie', async () => {
    await expect(connected(track(socket(srv.url, '/events', {})))).rejects.toThrow(/unauthorized/);
    const cookie = await loginCookie(srv.url);
    await expect(connected(track(socket(srv.url, '/events', { cookie, origin: 'http://evil.example' })))).rejects.toThrow(/forbidden/);
    await connected(track(socket(srv.url, '/events', { cookie, origin: srv.url })));
  });
});

/** A console viewer: collects output, acks it, and can wait for text to appear. */
function viewer(s: Socket, sessionId: string) {
  let text = '';
  let offset = 0;
  s.on('output', (m: ConsoleOutput, ack: () => void) => {
    if (m.sessionId === sessionId) {
      text += m.data;
      offset = m.offset;
    }
    ack();
  });
  return {
    attach: (extra: Record<string, unknown> = {}) =>
      new Promise<AttachReply>((resolve) => s.emit('attach', { sessionId, target: { kind: 'host-shell' }, cols: 100, rows: 30, ...extra }, resolve)),
    type: (data: string) => s.emit('input', { sessionId, data }),
    text: () => text,
    offset: () => offset,
    setOffset: (o: number) => (offset = o),
    waitFor: (needle: string) => until(() => text.includes(needle), `console output ${JSON.stringify(needle)}`),
  };
}

describe('/console with the host shell', () => {
  const sessionId = `it-${Date.now().toString(36)}-abcd`;

  it('is refused while the setting is off, and for non-admins', async () => {
    const s = track(socket(srv.url, '/console', { token }));
    await connected(s);
    const r = await viewer(s, sessionId).attach();
    expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const op = track(socket(srv.url, '/console', { token: await adminToken(srv.url, 'operator') }));
    await connected(op);
    expect(await viewer(op, 'other-session-1').attach()).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('echoes typing, shares the session read-only, resizes, and replays what a reconnecting viewer missed', async () => {
    await client(srv.url, token).settings.update({ consoleHostShell: true });
    const a = track(socket(srv.url, '/console', { token }));
    await connected(a);
    const va = viewer(a, sessionId);
    const r = await va.attach();
    expect(r).toMatchObject({ ok: true, mode: 'interactive' });
    va.type('echo hi-$((40+2))\n');
    await va.waitFor('hi-42');

    // A second viewer in read-only mode sees the scrollback, and its keystrokes go nowhere.
    const b = track(socket(srv.url, '/console', { token }));
    await connected(b);
    const vb = viewer(b, sessionId);
    const rb = await vb.attach({ mode: 'readonly' });
    expect(rb).toMatchObject({ ok: true, mode: 'readonly' });
    expect(rb.ok && rb.replay).toContain('hi-42');
    vb.type('echo READONLY-$((1+1))\n');
    b.emit('resize', { sessionId, cols: 20, rows: 5 });
    va.type('echo marker-$((2+3))\n');
    await va.waitFor('marker-5');
    await vb.waitFor('marker-5');
    expect(va.text()).not.toContain('READONLY-2');

    // Resize is its own event; the shell sees the new size.
    a.emit('resize', { sessionId, cols: 120, rows: 40 });
    va.type('stty size\n');
    await va.waitFor('40 120');

    // Drop viewer A while the shell is about to print; reconnect with its offset.
    const seen = va.offset();
    va.type('sleep 0.5; echo later-$((3+4))\n');
    await until(() => va.text().includes('echo later'), 'the command echo');
    const seenAfterCommand = va.offset();
    a.disconnect();
    await vb.waitFor('later-7');
    const a2 = track(socket(srv.url, '/console', { token }));
    await connected(a2);
    const ra = await viewer(a2, sessionId).attach({ since: seenAfterCommand });
    expect(ra.ok).toBe(true);
    if (!ra.ok) return;
    expect(ra.replay).toContain('later-7');
    expect(ra.replay).not.toContain('hi-42');
    expect(ra.truncated).toBe(false);
    expect(seen).toBeLessThan(seenAfterCommand);

    // A fresh viewer with no offset gets the whole scrollback.
    const c = track(socket(srv.url, '/console', { token }));
    await connected(c);
    const rc = await viewer(c, sessionId).attach();
    expect(rc.ok && rc.replay).toContain('hi-42');
    expect(rc.ok && rc.replay).toContain('later-7');
  });

  it('rejects malformed payloads without dropping the connection', async () => {
    const s = track(socket(srv.url, '/console', { token }));
    await connected(s);
    const bad = await new Promise<AttachReply>((resolve) => s.emit('attach', { sessionId: '../../x', target: { kind: 'host-shell' } }, resolve));
    expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    s.emit('input', { sessionId, data: 42 });
    s.emit('resize', { sessionId, cols: -1, rows: 1e9 });
    s.emit('input', 'not even an object');
    const again = await viewer(s, sessionId).attach();
    expect(again.ok).toBe(true);
    expect(s.connected).toBe(true);
  });
});
