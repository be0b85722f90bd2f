import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { adminToken, jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';
import { pngSize, RfbClient } from './rfb-client';

/**
 * The Display tab's path on a real busybox VM: QEMU's VNC server on its unix socket, bridged by
 * Hangar's websocket. Pixels arrive; several viewers watch at once; a viewer's and a share link's
 * keys never reach the guest while an operator's do; a malformed client message closes only its
 * own socket; screenshots are PNGs of the screen's size.
 */
let srv: RunningServer;
let token: string;
let viewer: string;
let api: ApiClient;
const clients: RfbClient[] = [];
const VM = 'disp-a';

beforeAll(async () => {
  ({ srv, token, api } = await serverWithBusybox());
  viewer = await adminToken(srv.url, 'viewer');
  expect((await jobDone(api, await api.machines.create({ name: VM, image: 'busybox', memoryMib: 128 }), 180_000)).error).toBeNull();
}, 400_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await tearDown(srv, api);
}, 120_000);

const wsUrl = (query = '') => `${srv.url.replace(/^http/, 'ws')}/api/machines/${VM}/display${query}`;
const open = async (bearer: string | null, query = '') => {
  const c = await RfbClient.overWebsocket(wsUrl(query), bearer ? { authorization: `Bearer ${bearer}` } : {});
  clients.push(c);
  return c;
};
const sh = async (script: string) => {
  const r = await api.machines.exec(VM, ['sh', '-c', script], 30);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

describe('display', () => {
  it("bridges QEMU's screen to several clients at once: the handshake, then pixels", async () => {
    const a = await open(token);
    const b = await open(viewer);
    expect(a.width).toBeGreaterThan(0);
    expect(a.height).toBeGreaterThan(0);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    await sh('echo HANGAR-DISPLAY-TEST > /dev/tty1');
    for (const c of [a, b]) {
      c.requestUpdate(false);
      const u = await c.readUpdate();
      expect(u.rects).toBeGreaterThan(0);
      expect(u.lit).toBeGreaterThan(0);
    }
    // Both stay connected (force-shared): each gets the next change too.
    await sh('echo again > /dev/tty1');
    for (const c of [a, b]) {
      c.requestUpdate(true);
      expect((await c.readUpdate()).rects).toBeGreaterThan(0);
      expect(c.closed).toBeNull();
    }
  }, 120_000);

  it("drops a viewer's and a share link's keys in the server; an operator's reach the guest", async () => {
    const link = await api.shares.create(VM, { role: 'viewer', label: 'display' });
    const info = await fetch(`${srv.url}/api/machines/${VM}/display`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(await info.json()).toMatchObject({ machine: VM, readOnly: true, protocol: 'rfb-over-websocket.v1' });
    // What is typed on the VGA console's keyboard, line by line, into a file.
    await sh('rm -f /tmp/typed; (cat /dev/tty1 > /tmp/typed 2>&1 &) </dev/null >/dev/null 2>&1; sleep 0.3');
    const watcher = await open(viewer);
    const shared = await open(null, `?share=${encodeURIComponent(link.token)}`);
    watcher.type('viewer\n');
    shared.type('share\n');
    // The watchers' streams still work after their input was dropped.
    watcher.requestUpdate(false);
    expect((await watcher.readUpdate()).rects).toBeGreaterThan(0);
    const op = await open(token);
    op.type('operator\n');
    const typed = await until(
      async () => {
        const t = await sh('cat /tmp/typed');
        return t.includes('operator') ? t : null;
      },
      'the operator typing on the VGA console',
      30_000,
      200,
    );
    expect(typed).not.toMatch(/viewer|share/);
    expect(watcher.closed).toBeNull();
    expect(shared.closed).toBeNull();
  }, 120_000);

  it('closes the socket of a client that sends what is not RFB; QEMU serves the next one', async () => {
    const bad = await open(token);
    bad.send([7, 0, 0, 0]);
    await until(() => bad.closed, 'the bad client closed');
    expect(bad.closed?.code).toBe(1008);
    const huge = await open(token);
    // ClientCutText claiming 16 MiB: refused before any of it is buffered.
    huge.send([6, 0, 0, 0, 1, 0, 0, 0]);
    await until(() => huge.closed, 'the oversized client closed');
    const good = await open(token);
    good.requestUpdate(false);
    expect((await good.readUpdate()).lit).toBeGreaterThan(0);
  }, 60_000);

  it('returns a PNG screenshot of the screen at its size, for viewers too', async () => {
    const c = await open(viewer);
    const res = await fetch(`${srv.url}/api/machines/${VM}/screenshot`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(pngSize(png)).toEqual({ width: c.width, height: c.height });
    expect(png.length).toBeGreaterThan(100);
  }, 60_000);

  it('a fork from a live checkpoint carries the screen: its device state loads with the VGA, its display answers', async () => {
    const forked = await jobDone(api, await api.snapshots.forkNow(VM, { names: ['disp-fork'] }), 180_000);
    expect(forked.error).toBeNull();
    const c = await RfbClient.overWebsocket(`${srv.url.replace(/^http/, 'ws')}/api/machines/disp-fork/display`, { authorization: `Bearer ${token}` });
    clients.push(c);
    c.requestUpdate(false);
    expect((await c.readUpdate()).rects).toBeGreaterThan(0);
    expect((await api.machines.get('disp-fork')).capabilities.display.available).toBe(true);
  }, 240_000);

  it('refuses the display of a stopped machine and callers without credentials', async () => {
    const anon = await fetch(`${srv.url}/api/machines/${VM}/screenshot`);
    expect(anon.status).toBe(401);
    await expect(RfbClient.overWebsocket(wsUrl())).rejects.toThrow(/401/);
    await jobDone(api, await api.machines.act(VM, 'stop'));
    const res = await fetch(`${srv.url}/api/machines/${VM}/screenshot`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(409);
    await expect(open(token)).rejects.toThrow(/409/);
  }, 120_000);
});
