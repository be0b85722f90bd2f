import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { ConsoleSource } from '@/server/core/console/source';
import { firstLine, run } from '../exec';
import { pickLoopbackPort } from '../net';
import { sshExec, sshShell, type SshTarget } from '../ssh';
import path from 'node:path';
import type { BootFiles, CheckpointResult, Fixups, MachineDriver, MachineSpec, StartFrom } from '../types';
import { machineFiles, qemuArgv, type GuestRam } from './argv';
import { agentExec } from './agent';
import { Qmp } from './qmp';
import { qemuCounters } from './stats';
import { serialConsole } from './serial';
import { copySshIdentity, fixupScript, incoming, liveCheckpoint, snapshotFiles } from './snapshot';

/** What the busybox image's init prints on the console once it is up (see busybox-image.ts). */
const READY_MARKER = 'hangar-ready';

/** Past this size the serial log is rotated at the next start (serial.log.1 keeps the previous one). */
const SERIAL_LOG_MAX = 8 * 1024 * 1024;

const sizeOf = (file: string): number => {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
};

/** Where the driver reaches a machine's sshd, or null for images without one. */
function sshTarget(m: MachineSpec): SshTarget | null {
  if (typeof m.runtime.sshPort !== 'number') return null;
  const f = machineFiles(m.dir);
  return { port: m.runtime.sshPort, user: 'root', keyFile: f.sshKey, knownHostFile: f.knownHost };
}

/** The machine's writable disk layer (machines made before layers existed keep theirs in their own dir). */
export function diskOf(m: MachineSpec): string {
  return typeof m.runtime.disk === 'string' ? m.runtime.disk : machineFiles(m.dir).disk;
}

const newLayer = (m: MachineSpec) => path.join(m.layers, `${m.id}-${randomBytes(4).toString('hex')}.qcow2`);

/** A locally administered MAC in QEMU's 52:54:00 range, random per machine (forks get their own). */
export function randomMac(): string {
  const b = randomBytes(3);
  return `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** True when `pid` is alive and is still a qemu process (pids get reused). */
export function isQemuPid(pid: unknown): boolean {
  if (typeof pid !== 'number' || pid <= 1) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('qemu-system');
  } catch {
    return false;
  }
}

const readPid = (file: string): number | null => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
};

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isQemuPid(pid)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return !isQemuPid(pid);
}

/** The running machine's RAM file: its own shared one unless it was started from a snapshot's. */
function ramOf(m: MachineSpec): GuestRam {
  const { ramPath, ramShared } = m.runtime;
  return typeof ramPath === 'string' ? { path: ramPath, shared: ramShared !== false } : { path: machineFiles(m.dir).ram, shared: true };
}

/** The machine's qemu pid: the recorded one, else its pid file (a start cut off before recording it). */
function pidOf(m: MachineSpec): number | null {
  if (isQemuPid(m.runtime.pid)) return m.runtime.pid as number;
  const fromFile = readPid(machineFiles(m.dir).pid);
  return fromFile && isQemuPid(fromFile) ? fromFile : null;
}

export class QemuDriver implements MachineDriver {
  readonly kind = 'qemu' as const;

  async create(m: MachineSpec, image: BootFiles) {
    if (image.diskBytes > m.diskGib * 2 ** 30)
      throw new Error(`The image's disk is ${Math.ceil(image.diskBytes / 2 ** 30)} GiB: give the machine at least that much.`);
    fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
    // A qcow2 overlay on the image: ten machines cost ten small files, not ten copies.
    const disk = newLayer(m);
    const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'qcow2', disk, `${m.diskGib}G`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
    if (image.ssh) {
      // The machine's own key pair: the public half reaches the guest on the kernel command line at every boot.
      const k = await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `hangar@${m.name}`, '-f', machineFiles(m.dir).sshKey], { timeoutMs: 30_000 });
      if (k.code !== 0) throw new Error(`ssh-keygen failed: ${firstLine(k.stderr)}`);
    }
    return { mac: randomMac(), ssh: image.ssh, disk };
  }

  async start(m: MachineSpec, image: BootFiles, accel: 'kvm' | 'tcg', from?: StartFrom) {
    const f = machineFiles(m.dir);
    for (const stale of [f.pid, f.serialSock, f.qmpSock, f.statsSock]) fs.rmSync(stale, { force: true });
    if (sizeOf(f.serialLog) > SERIAL_LOG_MAX) fs.renameSync(f.serialLog, `${f.serialLog}.1`);
    // This boot's output starts here: readiness is looked for after it, not in an earlier boot's log.
    const serialFrom = sizeOf(f.serialLog);
    const mac = typeof m.runtime.mac === 'string' ? m.runtime.mac : randomMac();
    const sshPort = image.ssh ? await pickLoopbackPort(m.runtime.sshPort) : null;
    let append = `${image.append} hangar.hostname=${m.name}`;
    if (image.ssh) append += ` hangar.sshkey=${Buffer.from(fs.readFileSync(`${f.sshKey}.pub`, 'utf8').trim()).toString('base64')}`;
    // A snapshot's RAM file is mapped privately: nothing copied, forks share its unmodified pages.
    // A boot gets a fresh shared file of its own. RAM that comes in the stream must be private
    // too: QEMU refuses stream pages for a shared block (x-ignore-shared skips those).
    const snapRam = from ? snapshotFiles(from.dir).ram : null;
    const ram: GuestRam = snapRam && fs.existsSync(snapRam) ? { path: snapRam, shared: false } : { path: f.ram, shared: !from };
    if (ram.path === f.ram) fs.rmSync(f.ram, { force: true });
    if (from) fs.appendFileSync(f.serialLog, `\r\n\x1b[36m[hangar] ${from.banner}\x1b[0m\r\n`);
    const argv = qemuArgv({
      ram,
      name: m.name,
      dir: m.dir,
      accel,
      cpus: m.cpus,
      memoryMib: m.memoryMib,
      kernel: image.kernel,
      initrd: image.initrd,
      mac,
      ports: m.ports,
      append,
      sshPort,
      disk: diskOf(m),
      incoming: !!from,
    });
    // -daemonize: the parent returns once the machine is set up, and reports set-up errors on stderr.
    const r = await run(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`qemu failed to start: ${r.stderr.trim() || `exit ${r.code}`}`);
    // The daemonized child writes the pid file, and may do so just after the parent returns.
    const end = Date.now() + 3000;
    let pid = readPid(f.pid);
    while ((!pid || !isQemuPid(pid)) && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 20));
      pid = readPid(f.pid);
    }
    if (!pid || !isQemuPid(pid)) throw new Error(`qemu exited right after start: ${r.stderr.trim() || 'no message'}`);
    if (from) {
      await incoming(f.qmpSock, snapshotFiles(from.dir).state).catch((err: Error) => {
        // QEMU exits when it cannot load a stream: say that, not just "connection reset".
        throw new Error(isQemuPid(pid) ? `loading the snapshot failed: ${err.message}` : `qemu exited while loading the snapshot's state (${err.message})`);
      });
    }
    return { pid, mac, accel, serialFrom, sshPort, ramPath: ram.path, ramShared: ram.shared };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    const pid = pidOf(m);
    if (pid === null) return { clean: true };
    const f = machineFiles(m.dir);
    if (!opts.force) {
      const qmp = await Qmp.connect(f.qmpSock).catch(() => null);
      if (qmp) {
        await qmp.execute('system_powerdown').catch(() => undefined);
        qmp.close();
        if (await waitGone(pid, opts.timeoutMs)) return { clean: true };
      }
    }
    // Force with no time at all (destroy, restore): the state is discarded, so nothing to flush.
    const qmp = opts.timeoutMs > 0 ? await Qmp.connect(f.qmpSock, 2000).catch(() => null) : null;
    if (qmp) {
      await qmp.execute('quit').catch(() => undefined);
      qmp.close();
    }
    if (!qmp || !(await waitGone(pid, 3000))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await waitGone(pid, 3000);
    }
    return { clean: false };
  }

  async pause(m: MachineSpec) {
    await this.qmp(m, 'stop');
  }

  async resume(m: MachineSpec) {
    await this.qmp(m, 'cont');
  }

  isRunning(m: MachineSpec) {
    return pidOf(m) !== null;
  }

  isReady(m: MachineSpec) {
    const from = typeof m.runtime.serialFrom === 'number' ? m.runtime.serialFrom : 0;
    let fd: number | null = null;
    try {
      fd = fs.openSync(machineFiles(m.dir).serialLog, 'r');
      const len = fs.fstatSync(fd).size - from;
      if (len <= 0) return false;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, from);
      return buf.includes(READY_MARKER);
    } catch {
      return false;
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  }

  async status(m: MachineSpec) {
    if (!this.isRunning(m)) return 'stopped' as const;
    const s = await this.qmp<{ running: boolean; status: string }>(m, 'query-status').catch(() => null);
    return s && !s.running && s.status === 'paused' ? ('paused' as const) : ('running' as const);
  }

  consoleLog(m: MachineSpec) {
    return machineFiles(m.dir).serialLog;
  }

  openConsole(m: MachineSpec): ConsoleSource {
    return serialConsole(machineFiles(m.dir), () => this.isRunning(m));
  }

  /** Over SSH where the image has sshd, else through the guest agent on ttyS1. */
  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    const ssh = sshTarget(m);
    return ssh ? sshExec(ssh, argv, opts.timeoutMs) : agentExec(machineFiles(m.dir).agentSock, argv, opts.timeoutMs);
  }

  openShell(m: MachineSpec, cols: number, rows: number) {
    const ssh = sshTarget(m);
    return ssh ? sshShell(ssh, cols, rows) : null;
  }

  async destroy(m: MachineSpec) {
    if (this.isRunning(m)) await this.stop(m, { force: true, timeoutMs: 0 });
    // The writable layer is the machine's own; frozen layers below it belong to snapshots.
    const disk = diskOf(m);
    if (disk.startsWith(path.resolve(m.layers) + path.sep)) fs.rmSync(disk, { force: true });
    fs.rmSync(m.dir, { recursive: true, force: true });
  }

  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    const disk = diskOf(m);
    const next = newLayer(m);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const f = machineFiles(m.dir);
    copySshIdentity(m.dir, dir);
    if (!this.isRunning(m)) {
      const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', disk, '-F', 'qcow2', next, `${m.diskGib}G`], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
      return { live: false, frozenDisk: disk, disk: next, pauseMs: null };
    }
    try {
      const { pauseMs } = await liveCheckpoint(f.qmpSock, ramOf(m), disk, next, m.diskGib, dir);
      return { live: true, frozenDisk: disk, disk: next, pauseMs };
    } catch (err) {
      if (!(err as { switched?: boolean }).switched) throw err;
      // The disk is frozen already: the snapshot keeps it, without the partial memory and device state.
      for (const partial of Object.values(snapshotFiles(dir))) fs.rmSync(partial, { force: true });
      fs.rmSync(`${snapshotFiles(dir).state}.part`, { force: true });
      return { live: false, frozenDisk: disk, disk: next, pauseMs: null, liveError: (err as Error).message };
    }
  }

  /** A fresh qcow2 overlay is only a header naming its backing file, the same for all: made once, copied for the rest. */
  async branch(frozen: string, targets: { id: string; layers: string; diskGib: number }[]) {
    const disks = targets.map((t) => path.join(t.layers, `${t.id}-${randomBytes(4).toString('hex')}.qcow2`));
    fs.mkdirSync(path.dirname(disks[0]), { recursive: true, mode: 0o700 });
    const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', frozen, '-F', 'qcow2', disks[0], `${targets[0].diskGib}G`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
    for (const d of disks.slice(1)) fs.copyFileSync(disks[0], d);
    return disks.map((disk) => ({ disk }));
  }

  async activeDisk(m: MachineSpec) {
    const blocks = await this.qmp<{ inserted?: { file?: string } }[]>(m, 'query-block').catch(() => []);
    return blocks.find((b) => b.inserted?.file)?.inserted?.file ?? null;
  }

  async fixup(m: MachineSpec, fx: Fixups) {
    const r = await agentExec(machineFiles(m.dir).agentSock, ['sh', '-c', fixupScript(fx)], 20_000);
    if (r.code !== 0 || !r.stdout.includes('fixed')) throw new Error(`guest fix-ups failed (exit ${r.code}): ${firstLine(r.stderr)}`);
  }

  async stats(m: MachineSpec, opts: { guest: boolean }) {
    const pid = pidOf(m);
    return pid === null ? null : qemuCounters(m, pid, diskOf(m), opts);
  }

  private async qmp<T>(m: MachineSpec, cmd: string): Promise<T> {
    const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
    try {
      return await q.execute<T>(cmd);
    } finally {
      q.close();
    }
  }
}
