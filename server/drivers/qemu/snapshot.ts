import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstLine, run } from '../exec';
import { shellQuote } from '@/lib/shell-quote';
import { machineFiles, type GuestRam } from './argv';
import type { PhaseMarks } from '@/lib/phases';
import type { Fixups } from '../types';
import { keepTemplate, qcow2Overlay } from './overlay';
import { Qmp, type QmpCommand, type QmpEvent } from './qmp';

/**
 * Files of a QEMU snapshot: the migration stream (device state only when RAM was a shared
 * file, which is then copied sparsely to `ram`; devices and RAM together when the machine ran
 * on a privately mapped snapshot), and their checksums in `sha256sum -c` form.
 */
export const snapshotFiles = (dir: string) => ({ state: `${dir}/state`, ram: `${dir}/ram`, sums: `${dir}/SHA256SUMS` });

/**
 * A machine's SSH identity (its key pair and the guest's pinned host key), kept under the
 * same names in machine and snapshot dirs: a snapshot's guest trusts the key of its machine.
 */
export function copySshIdentity(fromDir: string, toDir: string): void {
  const a = machineFiles(fromDir);
  const b = machineFiles(toDir);
  for (const [from, to] of [
    [a.sshKey, b.sshKey],
    [`${a.sshKey}.pub`, `${b.sshKey}.pub`],
    [a.knownHost, b.knownHost],
  ]) {
    if (fs.existsSync(from)) fs.copyFileSync(from, to);
  }
}

/** Wait for a migration (outgoing or incoming) to finish; polls fast because the guest is paused meanwhile. */
export async function waitMigration(q: Qmp, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await q.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (s.status === 'completed') return;
    if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`migration ${s.status}: ${s['error-desc'] ?? 'no reason given'}`);
    if (Date.now() > end) throw new Error(`migration did not finish within ${timeoutMs} ms (status ${s.status ?? 'none'})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A state file is complete when it starts with QEMU's magic and ends with the JSON device
 * description QEMU writes last (a truncated file lacks it, even when QMP said `completed`).
 */
export function checkStateFile(file: string): number {
  const buf = fs.readFileSync(file);
  if (buf.length < 8 || buf.readUInt32BE(0) !== 0x5145564d) throw new Error(`${file}: not a QEMU migration stream`);
  const tail = buf.subarray(Math.max(0, buf.length - 1024 * 1024)).toString('latin1');
  const at = tail.lastIndexOf('{"page_size"');
  if (at < 0) throw new Error(`${file}: truncated (no device description at the end)`);
  try {
    JSON.parse(tail.slice(at));
  } catch {
    throw new Error(`${file}: truncated (device description cut short)`);
  }
  return buf.length;
}

/** Copy keeping holes (SEEK_DATA) and turning zero blocks into holes: an idle guest's RAM is mostly zeros. */
export async function sparseCopy(src: string, dst: string): Promise<void> {
  const r = await run(['cp', '--sparse=always', '--', src, dst], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`copying ${src} failed: ${firstLine(r.stderr)}`);
}

async function waitFile(file: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear: the state writer did not finish`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The QEMU side of a live checkpoint, with the guest paused only for the device state, the
 * RAM copy and the disk switch: save devices (x-ignore-shared: shared RAM is copied sparsely
 * instead of streamed; private RAM, a restored snapshot's, is streamed with the devices), make
 * the current disk layer read-only under a new overlay, continue. The state is written to a
 * temporary name and renamed by the shell only once `cat` has written all of it.
 */
export async function liveCheckpoint(
  qmpSock: string,
  ram: GuestRam,
  disk: string,
  newLayer: string,
  diskGib: number,
  outDir: string,
  /** More disks to switch to new layers in the same pause (disks.ts). */
  alsoSwitch?: (q: Qmp) => Promise<void>,
): Promise<{ pauseMs: number; stateBytes: number; resumeError?: string }> {
  const out = snapshotFiles(outDir);
  await qcow2Overlay(disk, newLayer, diskGib, true);
  // Still empty: restores and forks of this snapshot copy it instead of running qemu-img.
  keepTemplate(newLayer, outDir, diskGib);
  const q = await Qmp.connect(qmpSock);
  let paused = false;
  let switched = false;
  let wasRunning = false;
  let t0 = 0;
  let resumeError: string | undefined;
  let failure: Error | null = null;
  try {
    const blocks = await q.execute<{ device: string; inserted?: unknown }[]>('query-block');
    // The root disk: the one with a drive name (extra disks' devices are anonymous backends).
    const device = blocks.find((b) => b.inserted && b.device)?.device;
    if (!device) throw new Error('no disk attached to the machine');
    // All the capabilities this save depends on, stated: a restored qemu may still have `events` on from its incoming migration.
    await q.execute('migrate-set-capabilities', { capabilities: capabilities({ 'x-ignore-shared': true, events: false }) });
    // QEMU's default cap (32 MiB/s) would stretch the pause of a streamed RAM save to seconds.
    await q.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 2 ** 30 });
    wasRunning = (await q.execute<{ running: boolean }>('query-status')).running;
    t0 = performance.now();
    if (wasRunning) await q.execute('stop');
    paused = true;
    // Disk first: a finished migration leaves the block layer inactive until `cont`.
    await q.execute('blockdev-snapshot-sync', { device, 'snapshot-file': newLayer, format: 'qcow2', mode: 'existing' });
    switched = true;
    await alsoSwitch?.(q);
    const part = `${out.state}.part`;
    await q.execute('migrate', { uri: `exec:cat > ${shellQuote(part)} && mv ${shellQuote(part)} ${shellQuote(out.state)}` });
    await waitMigration(q, 120_000);
    if (ram.shared) await sparseCopy(ram.path, out.ram);
  } catch (err) {
    // Once QEMU writes to the new layer it must stay (the caller records it as the machine's disk).
    if (!switched) fs.rmSync(newLayer, { force: true });
    failure = Object.assign(err as Error, { switched });
  }
  if (paused && wasRunning) {
    resumeError = await resume(q).then(
      () => undefined,
      (err: Error) => err.message,
    );
  }
  const pauseMs = paused ? performance.now() - t0 : 0;
  q.close();
  if (failure) throw Object.assign(failure, { resumeError });
  await waitFile(out.state, 10_000);
  return { pauseMs: Math.round(pauseMs), stateBytes: checkStateFile(out.state), resumeError };
}

/** QMP's form of a capability set. */
const capabilities = (caps: Record<string, boolean>) => Object.entries(caps).map(([capability, state]) => ({ capability, state }));

/**
 * Run the guest again after an outgoing migration, and check that it runs. QEMU says `completed`
 * (query-migrate, and the MIGRATION event) from its migration thread a moment before it leaves the
 * finish-migrate run state, and refuses `cont` until then ("Migration is not finalized yet"): a
 * `cont` sent at once can be lost, leaving the guest paused for good. So: wait for that state to
 * pass, `cont`, and ask again until the guest runs, within `timeoutMs`.
 */
export async function resume(q: Qmp, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let refused = '';
  for (;;) {
    const s = await q.execute<{ running: boolean; status: string }>('query-status');
    if (s.running) return;
    if (s.status !== 'finish-migrate')
      refused = await q.execute('cont').then(
        () => '',
        (err: Error) => err.message,
      );
    if (Date.now() > end) throw new Error(`the guest did not run again within ${timeoutMs} ms (status ${s.status}${refused ? `; cont: ${refused}` : ''})`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * After `-incoming defer`: load the device state (and RAM, when the stream has it), then run.
 * One write sets the capabilities (x-ignore-shared as the checkpoint saved with; `events` for
 * the completion event, so nothing polls) and starts loading; then `cont` (with `events` off again), asked with the status
 * in the same write (see contUntilRunning). `run: false` stops after the load, the guest paused.
 */
export async function incoming(qmpSock: string, stateFile: string, phases?: PhaseMarks, opts: { run?: boolean } = {}): Promise<void> {
  // The stream comes over a socket QEMU listens on (from migrate-incoming on, gone once it accepts), sent from here:
  // `exec:cat` would fork qemu, then sh, then cat.
  const streamSock = path.join(path.dirname(qmpSock), 'incoming.sock');
  fs.rmSync(streamSock, { force: true });
  const { qmp: q } = await Qmp.session(qmpSock, [
    ['migrate-set-capabilities', { capabilities: capabilities({ 'x-ignore-shared': true, events: true }) }],
    ['migrate-incoming', { uri: `unix:${streamSock}` }],
  ]);
  // Connected, negotiated, and QEMU waits for the stream.
  phases?.mark('qmp_ready');
  const sender = net.connect(streamSock);
  // A stream QEMU refuses makes it exit: the QMP connection closing says so, not this socket's error.
  sender.on('error', () => undefined);
  fs.createReadStream(stateFile)
    .on('error', (err) => sender.destroy(err))
    .pipe(sender);
  try {
    const done = await q.waitEvent((e) => e.event === 'MIGRATION' && ['completed', 'failed', 'cancelled'].includes(statusOf(e)), 60_000);
    if (statusOf(done) !== 'completed') {
      const s = await q.execute<{ 'error-desc'?: string }>('query-migrate').catch(() => ({}) as { 'error-desc'?: string });
      throw new Error(`migration ${statusOf(done)}: ${s['error-desc'] ?? 'no reason given'}`);
    }
    phases?.mark('migrate_incoming');
    // `events` off again before anything runs: left on, a later checkpoint's save would announce its end from QEMU's
    // migration thread too, and `completed` would come before the run state allows `cont` more often (see resume()).
    const eventsOff: QmpCommand = ['migrate-set-capabilities', { capabilities: capabilities({ events: false }) }];
    // Loaded ahead (a hot snapshot's standby): the guest stays paused (the stream was saved paused) until runLoaded().
    if (opts.run === false) await q.execute(...eventsOff);
    else await contUntilRunning(q, [eventsOff]);
    phases?.mark('cont');
  } finally {
    q.close();
    sender.destroy();
  }
}

/**
 * A guest whose state is loaded already (paused): run it. On a connection opened ahead (`ahead`),
 * one round trip; else it connects, negotiates and continues in one write.
 */
export async function runLoaded(qmpSock: string, phases?: PhaseMarks, ahead?: Qmp): Promise<void> {
  const { qmp: q, answers } = ahead
    ? { qmp: ahead, answers: await ahead.executeAll([['cont'], ['query-status']]) }
    : await Qmp.session(qmpSock, [['cont'], ['query-status']]);
  try {
    if (!(answers[1] as { running: boolean }).running) await contUntilRunning(q, []);
    phases?.mark('cont');
  } finally {
    q.close();
  }
}

/**
 * `cont`, asked with the status in the same write, until the guest runs: a `cont` that lands
 * before QEMU leaves the incoming state only arms autostart, which a stream saved paused ignores.
 */
async function contUntilRunning(q: Qmp, first: QmpCommand[]): Promise<void> {
  for (let i = 0; ; i++) {
    const answers = await q.executeAll([...(i === 0 ? first : []), ['cont'], ['query-status']]);
    const status = answers[answers.length - 1] as { running: boolean; status: string };
    if (status.running) return;
    if (i >= 100) throw new Error(`the guest did not run after loading its state (status ${status.status})`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const statusOf = (e: QmpEvent): string => (e.data as { status?: string } | undefined)?.status ?? '';

/**
 * What must differ after a restore or fork, done in the guest by the agent: the clock (it
 * lags by the time the snapshot sat on disk), the kernel RNG (every fork would otherwise
 * produce the same numbers), and for forks hostname, MAC and optionally machine-id and host keys.
 */
export function fixupScript(f: Fixups & { mac?: string }, now = Date.now()): string {
  const lines = [
    `date -s @${Math.floor(now / 1000)} >/dev/null 2>&1`,
    `printf '%s' ${shellQuote(randomBytes(64).toString('base64'))} | base64 -d > /dev/urandom`,
  ];
  if (f.hostname) lines.push(`hostname ${shellQuote(f.hostname)}`, `[ -f /etc/hostname ] && echo ${shellQuote(f.hostname)} > /etc/hostname`);
  if (f.mac) lines.push(`for i in /sys/class/net/*; do n=\${i##*/}; [ "$n" = lo ] && continue; ip link set dev "$n" address ${shellQuote(f.mac)}; break; done`);
  if (f.newIdentity) {
    lines.push(
      'if command -v systemd-machine-id-setup >/dev/null; then rm -f /etc/machine-id; systemd-machine-id-setup >/dev/null 2>&1; fi',
      'if [ -d /etc/ssh ]; then rm -f /etc/ssh/ssh_host_*; ' +
        "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key; systemctl restart ssh 2>/dev/null; fi",
    );
  }
  lines.push('echo fixed');
  return lines.join('\n');
}
