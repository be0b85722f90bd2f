import path from 'node:path';
import * as pty from 'node-pty';
import type { Socket } from 'socket.io-client';
import type { ConsoleOutput } from '@/lib/contracts/console';
import { adminToken, client, connected, socket, startServer } from '@/server/integration/harness';
import { bareConsole } from './echo-probe-client';
import { percentile, round, rssMb } from './stats';

const SAMPLES = 400;
const BYTES = 50 * 1024 * 1024;
// Printable output in lines, like a real noisy command; ends with a marker we wait for.
const FLOOD = `head -c ${(BYTES * 3) / 4} /dev/zero | base64 -w 120; echo BENCH-DONE-$((6*7))`;

/** Baseline: the same pty echo and flood read directly by node-pty in this process (no server, no socket). */
async function rawPty() {
  const p = pty.spawn('/bin/bash', ['--norc', '--noprofile'], { cols: 200, rows: 50, env: { ...process.env, PS1: '$ ' } as Record<string, string> });
  let buf = '';
  let waiter: { needle: string; resolve: () => void } | null = null;
  p.onData((d) => {
    // Only the tail is searched: a marker never spans more than this.
    buf = (buf + d).slice(-8192);
    if (waiter && buf.includes(waiter.needle)) waiter.resolve();
  });
  const waitFor = (needle: string) =>
    new Promise<void>((resolve) => {
      if (buf.includes(needle)) return resolve();
      waiter = { needle, resolve };
    });
  // Raw mode: each byte reaches `dd` at once and comes straight back; dd ends after SAMPLES bytes (head would buffer them).
  p.write(`stty raw -echo; dd bs=1 count=${SAMPLES} status=none; stty sane\n`);
  await new Promise((r) => setTimeout(r, 300));
  const lat: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    buf = '';
    const ch = String.fromCharCode(97 + (i % 26));
    const t = performance.now();
    p.write(ch);
    await waitFor(ch);
    lat.push(performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, 200));
  buf = '';
  const t0 = performance.now();
  let bytes = 0;
  const counter = p.onData((d) => (bytes += d.length));
  p.write(`${FLOOD}\n`);
  await waitFor('BENCH-DONE-42');
  const secs = (performance.now() - t0) / 1000;
  counter.dispose();
  p.kill();
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), mbs: bytes / 1048576 / secs };
}

function consoleViewer(s: Socket, sessionId: string, ackDelayMs = 0) {
  let tail = '';
  let bytes = 0;
  let waiter: { needle: string; resolve: () => void } | null = null;
  s.on('output', (m: ConsoleOutput, ack: () => void) => {
    bytes += m.data.length;
    tail = (tail + m.data).slice(-8192);
    if (ackDelayMs) setTimeout(ack, ackDelayMs);
    else ack();
    if (waiter && tail.includes(waiter.needle)) waiter.resolve();
  });
  return {
    attach: () =>
      new Promise<void>((resolve, reject) =>
        s.emit('attach', { sessionId, target: { kind: 'host-shell' }, cols: 200, rows: 50 }, (r: { ok: boolean }) =>
          r.ok ? resolve() : reject(new Error(JSON.stringify(r))),
        ),
      ),
    type: (data: string) => s.emit('input', { sessionId, data }),
    reset: () => {
      tail = '';
      bytes = 0;
    },
    bytes: () => bytes,
    waitFor: (needle: string) =>
      new Promise<void>((resolve) => {
        if (tail.includes(needle)) return resolve();
        waiter = { needle, resolve };
      }),
  };
}

/** Echo latencies: one key at a time through `dd` in raw mode, after 50 untimed (the client's code warmed, whichever server is first). */
async function echo(v: ReturnType<typeof consoleViewer>) {
  const warm = 50;
  v.type(`stty raw -echo; dd bs=1 count=${SAMPLES + warm} status=none; stty sane\n`);
  await new Promise((r) => setTimeout(r, 500));
  const lat: number[] = [];
  for (let i = 0; i < SAMPLES + warm; i++) {
    v.reset();
    const ch = String.fromCharCode(97 + (i % 26));
    const t = performance.now();
    v.type(ch);
    await v.waitFor(ch);
    if (i >= warm) lat.push(performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, 300));
  return lat;
}

/** The flood's MB/s through a console viewer already attached. */
async function flood(v: ReturnType<typeof consoleViewer>) {
  v.reset();
  const t0 = performance.now();
  v.type(`${FLOOD}\n`);
  await v.waitFor('BENCH-DONE-42');
  return v.bytes() / 1048576 / ((performance.now() - t0) / 1000);
}

/**
 * The floor: the same echo and flood through the smallest console server that speaks the same
 * protocol (bench/bare-console.ts: socket.io and the same shell on a pty, nothing else; no
 * sessions, replay, recording or flow control) in a process of its own, as Hangar's server is.
 */
async function bareFloor() {
  const bare = await bareConsole();
  try {
    const s = socket(bare.url, '/console', {});
    await connected(s);
    const v = consoleViewer(s, 'bench-floor');
    await v.attach();
    const lat = await echo(v);
    const mbs = await flood(v);
    s.disconnect();
    return { lat, mbs };
  } finally {
    await bare.stop();
  }
}

export async function run() {
  const raw = await rawPty();
  const floor = await bareFloor();
  // HANGAR_BENCH_CPU_PROF=DIR: the server writes a CPU profile there (node --cpu-prof) when it stops.
  const prof = process.env.HANGAR_BENCH_CPU_PROF;
  const srv = await startServer({ nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : [] });
  try {
    const token = await adminToken(srv.url);
    await client(srv.url, token).settings.update({ consoleHostShell: true });
    const pid = srv.proc.pid!;
    const s = socket(srv.url, '/console', { token });
    await connected(s);
    const v = consoleViewer(s, 'bench-console-1');
    await v.attach();
    const lat = await echo(v);
    // The server's memory while the flood goes out (sampled from here on: not during the echo's timing).
    const rssBefore = rssMb(pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 50);
    const mbs = await flood(v);
    const fastGrowth = rssMax - rssBefore;

    // A viewer that acknowledges slowly: the pty is paused instead of the server buffering.
    const slow = socket(srv.url, '/console', { token });
    await connected(slow);
    const sv = consoleViewer(slow, 'bench-console-2', 20);
    await sv.attach();
    const slowBefore = rssMb(pid);
    rssMax = slowBefore;
    sv.type(`head -c ${8 * 1024 * 1024} /dev/zero | base64 -w 120; echo BENCH-DONE-$((6*7))\n`);
    await sv.waitFor('BENCH-DONE-42');
    clearInterval(sampler);
    const slowGrowth = rssMax - slowBefore;
    s.disconnect();
    slow.disconnect();
    const echoP99 = percentile(lat, 99);
    const floorP99 = percentile(floor.lat, 99);
    return {
      samples: SAMPLES,
      echo_p50_ms: round(percentile(lat, 50)),
      echo_p99_ms: round(echoP99),
      raw_pty_echo_p99_ms: round(raw.p99),
      echo_overhead_ratio: round(echoP99 / raw.p99),
      floor_echo_p99_ms: round(floorP99),
      echo_p99_vs_floor: round(echoP99 / floorP99),
      throughput_mb_s: round(mbs, 1),
      raw_pty_throughput_mb_s: round(raw.mbs, 1),
      throughput_ratio_vs_raw_pty: round(mbs / raw.mbs),
      floor_throughput_mb_s: round(floor.mbs, 1),
      throughput_vs_floor: round(mbs / floor.mbs),
      server_rss_growth_mb: round(fastGrowth, 1),
      slow_viewer_rss_growth_mb: round(slowGrowth, 1),
      flood_mb: BYTES / 1048576,
    };
  } finally {
    await srv.stop();
  }
}
