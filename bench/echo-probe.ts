// A console's echo, measured from a process of its own (so the load generator's own busy event
// loop is not counted as the server's): attach to the host shell console of the Hangar at
// argv[2] with the token argv[3], put the pty in raw mode with `dd` reading one byte at a time,
// then once "go" arrives on stdin type argv[4] characters one by one, argv[5] ms apart, each
// timed until it comes back through the server. Prints "ready", then one JSON line of figures.
import fs from 'node:fs';
import readline from 'node:readline';
import { io } from 'socket.io-client';
import type { ConsoleOutput } from '@/lib/contracts/console';
import { percentile, round } from './stats';

const [url, token, samplesArg, gapArg] = process.argv.slice(2);
const SAMPLES = Number(samplesArg ?? 200);
const GAP_MS = Number(gapArg ?? 20);
const sessionId = `echo-probe-${process.pid}`;

// HANGAR_BENCH_CA: the certificate to trust for wss:// (the TLS bench's self-signed one).
const ca = process.env.HANGAR_BENCH_CA ? fs.readFileSync(process.env.HANGAR_BENCH_CA, 'utf8') : undefined;
const s = io(`${url}/console`, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, ...(ca ? { ca } : {}) });
await new Promise<void>((resolve, reject) => (s.once('connect', () => resolve()), s.once('connect_error', reject)));
let tail = '';
let waiter: { needle: string; resolve: () => void } | null = null;
s.on('output', (m: ConsoleOutput, ack: () => void) => {
  ack();
  tail = (tail + m.data).slice(-4096);
  if (waiter && tail.includes(waiter.needle)) waiter.resolve();
});
const waitFor = (needle: string) =>
  new Promise<void>((resolve) => {
    if (tail.includes(needle)) return resolve();
    waiter = { needle, resolve };
  });
const reply = await new Promise<{ ok: boolean }>((resolve) => s.emit('attach', { sessionId, target: { kind: 'host-shell' }, cols: 120, rows: 40 }, resolve));
if (!reply.ok) throw new Error(`attach: ${JSON.stringify(reply)}`);
const type = (data: string) => s.emit('input', { sessionId, data });
type(`stty raw -echo; printf 'PROBE-%s\\n' READY; dd bs=1 count=${SAMPLES} status=none\n`);
await waitFor('PROBE-READY');
console.log('ready');
await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));

const lat: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  tail = '';
  const ch = String.fromCharCode(97 + (i % 26));
  const t = performance.now();
  type(ch);
  await waitFor(ch);
  lat.push(performance.now() - t);
  await new Promise((r) => setTimeout(r, GAP_MS));
}
console.log(
  JSON.stringify({ p50_ms: round(percentile(lat, 50), 2), p99_ms: round(percentile(lat, 99), 2), max_ms: round(Math.max(...lat), 2), samples: lat.length }),
);
s.disconnect();
process.exit(0);
