import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from '@/server/integration/harness';
import { RfbClient } from '@/server/integration/rfb-client';
import { round } from './stats';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A full-screen test pattern that never stops changing: random characters and colours written
 * straight into the VGA text buffer (Hangar's guests keep their kernel console on the serial line).
 */
const PATTERN = 'while true; do dd if=/dev/urandom of=/dev/mem bs=32 seek=23552 count=125 conv=notrunc 2>/dev/null; done';

/**
 * Whole frames per second: ask for the full screen (non-incremental) again as soon as one arrives,
 * for `ms`. Each answer is the whole 32-bit framebuffer, so this measures the path (QEMU's encoder,
 * the bridge, the client), not how fast the guest draws.
 */
async function fps(c: RfbClient, ms: number): Promise<number> {
  c.requestUpdate(false);
  await c.readUpdate();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    c.requestUpdate(false);
    if ((await c.readUpdate()).rects > 0) n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

/**
 * The Display tab's path (Hangar's websocket bridge to QEMU's VNC socket, with its RFB filter)
 * against an RFB client on QEMU's unix socket directly, in the same run on the same changing
 * screen: first full frame, frames per second, and screenshots.
 */
export async function run() {
  const srv = await startServer({ env: process.env.HANGAR_CACHE ? { HANGAR_CACHE: process.env.HANGAR_CACHE } : {} });
  const token = await adminToken(srv.url);
  const api = client(srv.url, token);
  try {
    return await measure(srv, api, token);
  } finally {
    await tearDown(srv, api);
  }
}

async function measure(srv: RunningServer, api: ApiClient, token: string) {
  const built = await jobDone(api, await api.images.build({ kind: 'busybox' }), 300_000);
  if (built.state !== 'succeeded') throw new Error(`busybox image: ${built.error}`);
  const made = await jobDone(api, await api.machines.create({ name: 'disp-bench', image: 'busybox', memoryMib: 128 }), 180_000);
  if (made.state !== 'succeeded') throw new Error(`machine: ${made.error}`);
  const m = await api.machines.get('disp-bench');
  const url = `${srv.url.replace(/^http/, 'ws')}/api/machines/${m.id}/display`;
  const headers = { authorization: `Bearer ${token}` };
  const direct = path.join(srv.dataDir, 'machines', m.id, 'vnc.sock');

  // Open the tab (the websocket, the handshake) to the first full frame, five times.
  const first: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = await RfbClient.overWebsocket(url, headers);
    c.requestUpdate(false);
    await c.readUpdate();
    first.push(performance.now() - t0);
    c.close();
  }

  // The guest draws without pause from here on (its exec returns at once: the loop is in the background).
  await api.machines.exec(m.id, ['sh', '-c', `(${PATTERN}) </dev/null >/dev/null 2>&1 &`], 30);
  await sleep(1000);
  const bridged: number[] = [];
  const straight: number[] = [];
  // Alternating rounds: both paths see the same guest and host load.
  for (let i = 0; i < 5; i++) {
    const d = await RfbClient.overUnixSocket(direct);
    straight.push(await fps(d, 5000));
    d.close();
    const b = await RfbClient.overWebsocket(url, headers);
    bridged.push(await fps(b, 5000));
    b.close();
  }

  // Screenshots a second apart (the server shares one taken within a second).
  const shots: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1100);
    const t0 = performance.now();
    const res = await fetch(`${srv.url}/api/machines/${m.id}/screenshot`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`screenshot: ${res.status}`);
    shots.push(performance.now() - t0);
  }
  const vncFps = median(bridged);
  const directFps = median(straight);
  return {
    vnc_first_frame_ms: Math.round(median(first)),
    vnc_fps: round(vncFps, 1),
    vnc_direct_fps: round(directFps, 1),
    vnc_bridge_ratio: round(vncFps / directFps, 2),
    screendump_ms: Math.round(median(shots)),
    // Each round's figures (5 s each, alternating): how much the host's load moves them.
    vnc_fps_rounds: bridged.map((x) => round(x, 1)),
    vnc_direct_fps_rounds: straight.map((x) => round(x, 1)),
    loadavg_1m: round(os.loadavg()[0], 1),
  };
}
