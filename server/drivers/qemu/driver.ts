import fs from 'node:fs';
import path from 'node:path';
import { firstLine, run } from '../exec';
import { pickLoopbackPort } from '../net';
import { diskUsage } from '../shared/disk-usage';
import { logConsole, logSince, logSize } from '../shared/log-console';
import { sshExec, sshExecStream, sshShell } from '../ssh';
import type {
  BootFiles,
  BranchTarget,
  CheckpointResult,
  ConsoleSource,
  Fixups,
  MachineDriver,
  MachineSpec,
  SnapshotSource,
  StartOptions,
  StreamIo,
} from '../types';
import { agentExec } from './agent';
import { agentExecStream } from './agent-stream';
import { qemuArchiver } from './archive';
import { machineFiles, qemuArgv, type GuestRam } from './argv';
import { accelFor, describeQemu, qemuFacts } from './describe';
import { cdromSpecOf, copyOvmfVars, createInstaller, installerFields, installerRecord, isBlank, qemuCdrom } from './cdrom';
import { createFromDisk, forkSeed } from './disk-image';
import { qemuDisplay, stateHasDisplay } from './display';
import { keepTemplate, overlayOn, qcow2Overlay } from './overlay';
import { backingChain } from './qcow2';
import { Qmp } from './qmp';
import { diskOf, isQemuPid, newLayer, pidOf, qemuRuntime, ramOf, randomMac, readPid, sshTarget, waitGone } from './runtime';
import { branchExtraDisks, discardExtraDisks, extraChains, newExtraLayers, qemuDisks, switchExtraDisks } from './disks';
import { extraDisksArgv, extrasOf } from './disks-argv';
import { copySshIdentity, fixupScript, incoming, liveCheckpoint, snapshotFiles } from './snapshot';
import { qemuMove } from './move';
import { qemuSshd } from './sshd';
import { adoptStandby, isStandby, qemuStandby } from './standby';
import { qemuCounters } from './stats';

/** What the busybox image's init prints on the console once it is up (see images/busybox.ts). */
const READY_MARKER = 'hangar-ready';

/** Past this size the serial log is rotated at the next start (serial.log.1 keeps the previous one). */
const SERIAL_LOG_MAX = 8 * 1024 * 1024;

export class QemuDriver implements MachineDriver {
  readonly kind = 'qemu' as const;
  readonly snapshotFiles = { checked: ['state'], bulk: ['ram'] };
  // A restore's new layer is a new file: it can be made while the old process goes.
  readonly branchesBesideRunning = true;
  readonly archive = qemuArchiver;
  readonly describe = describeQemu;
  readonly facts = qemuFacts;
  readonly sshd = qemuSshd(this);
  readonly display = qemuDisplay;
  readonly cdrom = qemuCdrom;
  readonly disks = qemuDisks;
  readonly move = qemuMove(this);

  async create(m: MachineSpec, image: BootFiles) {
    if (image.diskBytes > m.diskGib * 2 ** 30)
      throw new Error(`The image's disk is ${Math.ceil(image.diskBytes / 2 ** 30)} GiB: give the machine at least that much.`);
    fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
    // A qcow2 overlay on the image: ten machines cost ten small files, not ten copies.
    const disk = newLayer(m);
    if (isBlank(image))
      return { runtime: { mac: randomMac(), ssh: false, disk, ...(await createInstaller(m, disk)) }, log: [`disk: empty qcow2 of ${m.diskGib} GiB`] };
    if (image.ownKernel) {
      const made = await createFromDisk(m, image, disk);
      return { runtime: { mac: randomMac(), disk, ...made.runtime }, log: made.log };
    }
    await qcow2Overlay(image.disk, disk, m.diskGib);
    if (image.ssh) {
      // The machine's own key pair: the public half reaches the guest on the kernel command line at every boot.
      const k = await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `hangar@${m.name}`, '-f', machineFiles(m.dir).sshKey], { timeoutMs: 30_000 });
      if (k.code !== 0) throw new Error(`ssh-keygen failed: ${firstLine(k.stderr)}`);
    }
    return { runtime: { mac: randomMac(), ssh: image.ssh, disk }, log: [`disk: qcow2 overlay on image ${image.image}`] };
  }

  readonly hotStandby = qemuStandby(this);

  async start(m: MachineSpec, image: BootFiles, { host, from, migrateIn }: StartOptions) {
    const rt = qemuRuntime(m.runtime);
    // A hot snapshot's fork: its process waits already, only the state is left to load.
    if (from && !from.standby && isStandby(m)) {
      // A disk image's standby was made under a name of its own: its seed now names the fork (for its next boot).
      if (rt.ownKernel) await forkSeed(m.runtime, m);
      return adoptStandby(m, from);
    }
    const accel = accelFor(host);
    const f = machineFiles(m.dir);
    for (const stale of [f.pid, f.serialSock, f.qmpSock, f.statsSock, f.displayQmpSock, f.vncSock]) fs.rmSync(stale, { force: true });
    if (logSize(f.serialLog) > SERIAL_LOG_MAX) fs.renameSync(f.serialLog, `${f.serialLog}.1`);
    // This boot's output starts here: readiness is looked for after it, not in an earlier boot's log.
    const serialFrom = logSize(f.serialLog);
    const mac = rt.mac ?? randomMac();
    const sshPort = image.ssh ? await pickLoopbackPort(rt.sshPort ?? undefined) : null;
    let append = `${image.append} hangar.hostname=${m.name}`;
    if (image.ssh && !rt.ownKernel) append += ` hangar.sshkey=${Buffer.from(fs.readFileSync(`${f.sshKey}.pub`, 'utf8').trim()).toString('base64')}`;
    // A snapshot's RAM file is mapped privately: nothing copied, forks share its unmodified pages.
    // A boot gets a fresh shared file of its own. RAM that comes in the stream must be private
    // too: QEMU refuses stream pages for a shared block (x-ignore-shared skips those).
    const snapRam = from ? snapshotFiles(from.dir).ram : null;
    const ram: GuestRam = snapRam && fs.existsSync(snapRam) ? { path: snapRam, shared: false } : { path: f.ram, shared: !from };
    if (ram.path === f.ram) fs.rmSync(f.ram, { force: true });
    if (from) fs.appendFileSync(f.serialLog, `\r\n\x1b[36m[hangar] ${from.banner}\x1b[0m\r\n`);
    // A snapshot loads into the devices it was saved with: one from before screens existed gets none.
    const display = from ? stateHasDisplay(snapshotFiles(from.dir).state) : migrateIn ? rt.display !== false : true;
    from?.phases?.mark('qemu_prepare');
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
      incoming: !!from || !!migrateIn,
      display,
      cdrom: cdromSpecOf(m),
      extraDisks: extraDisksArgv(m.runtime),
    });
    // -daemonize: the parent returns once the machine is set up, and reports set-up errors on stderr.
    const r = await run(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`qemu failed to start: ${r.stderr.trim() || `exit ${r.code}`}`);
    from?.phases?.mark('spawn');
    // The daemonized child writes the pid file, and may do so just after the parent returns.
    const end = Date.now() + 3000;
    let pid = readPid(f.pid);
    while ((!pid || !isQemuPid(pid)) && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 20));
      pid = readPid(f.pid);
    }
    if (!pid || !isQemuPid(pid)) throw new Error(`qemu exited right after start: ${r.stderr.trim() || 'no message'}`);
    from?.phases?.mark('pid_file');
    const runtime = {
      ...rt,
      pid,
      mac,
      accel,
      serialFrom,
      sshPort,
      ramPath: ram.path,
      ramShared: ram.shared,
      display,
      bootCdOnce: false,
      standby: !!from?.standby,
    };
    if (from && !from.standby) {
      await incoming(f.qmpSock, snapshotFiles(from.dir).state, from.phases).catch((err: Error) => {
        // QEMU exits when it cannot load a stream: say that, not just "connection reset".
        throw new Error(isQemuPid(pid) ? `loading the snapshot failed: ${err.message}` : `qemu exited while loading the snapshot's state (${err.message})`);
      });
    }
    return { runtime, log: [`qemu pid ${pid}, accelerator ${accel}`] };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    const runtime = { ...m.runtime, pid: null };
    const pid = pidOf(m);
    if (pid === null) return { clean: true, runtime };
    const f = machineFiles(m.dir);
    if (!opts.force) {
      const qmp = await Qmp.connect(f.qmpSock).catch(() => null);
      if (qmp) {
        await qmp.execute('system_powerdown').catch(() => undefined);
        qmp.close();
        if (await waitGone(pid, opts.timeoutMs)) return { clean: true, runtime };
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
    return { clean: false, runtime };
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
    // An installer's guest is whatever the ISO boots (no Hangar init to announce itself): running is ready.
    // So is a disk image's: its guest is its own (cloud-init brings SSH up when it is done).
    const rt = qemuRuntime(m.runtime);
    if (rt.installer || rt.ownKernel) return this.isRunning(m);
    return logSince(machineFiles(m.dir).serialLog, rt.serialFrom ?? 0, Infinity).includes(READY_MARKER);
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
    return logConsole(machineFiles(m.dir), () => pidOf(m));
  }

  /** Over SSH where the image has sshd, else through the guest agent on ttyS1. */
  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    const ssh = sshTarget(m);
    return ssh ? sshExec(ssh, argv, opts.timeoutMs) : agentExec(machineFiles(m.dir).agentSock, argv, opts.timeoutMs);
  }

  /** Streams over SSH; through the serial agent a chunk at a time where the image has no sshd. */
  execStream(m: MachineSpec, argv: string[], io: StreamIo) {
    const ssh = sshTarget(m);
    return ssh ? sshExecStream(ssh, argv, io) : agentExecStream(machineFiles(m.dir).agentSock, argv, io);
  }

  openShell(m: MachineSpec, cols: number, rows: number) {
    const ssh = sshTarget(m);
    return ssh ? sshShell(ssh, cols, rows) : null;
  }

  async destroy(m: MachineSpec) {
    if (this.isRunning(m)) await this.stop(m, { force: true, timeoutMs: 0 });
    this.discard(m);
    fs.rmSync(m.dir, { recursive: true, force: true });
  }

  /** The writable layer is the machine's own; frozen layers below it belong to snapshots. */
  discard(m: MachineSpec) {
    const disk = diskOf(m);
    if (disk.startsWith(path.resolve(m.layers) + path.sep)) fs.rmSync(disk, { force: true });
    discardExtraDisks(m);
  }

  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    const disk = diskOf(m);
    const next = newLayer(m);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const f = machineFiles(m.dir);
    copySshIdentity(m.dir, dir);
    copyOvmfVars(m.dir, dir);
    const extra = await newExtraLayers(m);
    const runtime = { ...m.runtime, disk: next, disks: extra.next };
    const size = () => [snapshotFiles(dir).state, snapshotFiles(dir).ram, disk].reduce((a, file) => a + diskUsage(file), 0);
    if (!this.isRunning(m)) {
      await qcow2Overlay(disk, next, m.diskGib);
      keepTemplate(next, dir, m.diskGib);
      return { live: false, frozenDisk: disk, runtime, pauseMs: null, sizeBytes: size() };
    }
    try {
      const { pauseMs, resumeError } = await liveCheckpoint(f.qmpSock, ramOf(m), disk, next, m.diskGib, dir, (q) =>
        switchExtraDisks(q, extra.disks, extra.next),
      );
      return { live: true, frozenDisk: disk, runtime, pauseMs, sizeBytes: size(), resumeError };
    } catch (err) {
      if (!(err as { switched?: boolean }).switched) throw err;
      // The disk is frozen already: the snapshot keeps it, without the partial memory and device state.
      for (const partial of Object.values(snapshotFiles(dir))) fs.rmSync(partial, { force: true });
      fs.rmSync(`${snapshotFiles(dir).state}.part`, { force: true });
      const { message, resumeError } = err as Error & { resumeError?: string };
      return { live: false, frozenDisk: disk, runtime, pauseMs: null, liveError: message, sizeBytes: size(), resumeError };
    }
  }

  snapshotRecord(m: MachineSpec) {
    // Extra disks as they are now: their layers are the ones the checkpoint freezes.
    const { disks, scsi } = extrasOf(m.runtime);
    return { ssh: qemuRuntime(m.runtime).ssh === true, ...installerRecord(m), disks, scsi };
  }

  /**
   * A fresh qcow2 overlay is only a header naming its backing file, the same for all: made once,
   * copied for the rest. Each machine gets the snapshot's SSH identity (its guest trusts that
   * key); forks also a MAC of their own.
   */
  async branch(snap: SnapshotSource, targets: BranchTarget[], mode: 'restore' | 'fork') {
    const disks = targets.map((t) => newLayer(t));
    fs.mkdirSync(path.dirname(disks[0]), { recursive: true, mode: 0o700 });
    await overlayOn(snap.frozen, snap.dir, disks[0], targets[0].diskGib);
    for (const d of disks.slice(1)) fs.copyFileSync(disks[0], d);
    for (const t of targets) {
      fs.mkdirSync(t.dir, { recursive: true, mode: 0o700 });
      copySshIdentity(snap.dir, t.dir);
      copyOvmfVars(snap.dir, t.dir);
    }
    const extra = await Promise.all(targets.map((t) => branchExtraDisks(snap, t)));
    // A disk image's fork gets a seed of its own (its name and instance-id); a restore keeps the machine's.
    const seeds = mode === 'fork' ? await Promise.all(targets.map((t) => forkSeed(snap.record, t))) : [];
    return disks.map((disk, i) => ({
      ...(mode === 'fork' ? { disk, mac: randomMac(), ssh: snap.record.ssh === true, ...installerFields(snap.record) } : { disk }),
      ...(seeds[i] ? { seed: seeds[i] } : {}),
      ...extra[i],
    }));
  }

  layersOf(runtime: Record<string, unknown>) {
    const disk = qemuRuntime(runtime).disk;
    return [...(disk ? backingChain(disk) : []), ...extraChains(runtime)];
  }

  chainOf(frozen: string) {
    return backingChain(frozen);
  }

  /** The qcow2 chain's ext filesystem, read without booting the guest. */
  readonly diffSource = {
    snapshot: (frozen: string) => ({ kind: 'disk' as const, disk: frozen }),
    machine: (m: MachineSpec) => ({ kind: 'disk' as const, disk: diskOf(m) }),
  };

  /** The disk the process writes to, asked of QEMU: a checkpoint cut off after its disk switch leaves the record behind. */
  async repair(m: MachineSpec) {
    if (!this.isRunning(m)) return null;
    const blocks = await this.qmp<{ device?: string; removable?: boolean; inserted?: { file?: string } }[]>(m, 'query-block').catch(() => []);
    // The root disk: a drive of its own name (extra disks are nameless blockdev nodes), not the CD-ROM's disc (removable).
    const disk = blocks.find((b) => b.inserted?.file && b.device && !b.removable)?.inserted?.file ?? null;
    return disk && disk !== qemuRuntime(m.runtime).disk ? { ...m.runtime, disk } : null;
  }

  async fixup(m: MachineSpec, fx: Fixups) {
    // A fork's saved device state carries its source's MAC: the guest takes its own.
    const rt = qemuRuntime(m.runtime);
    // A disk image's guest has no agent of Hangar's: its fix-ups go over SSH, its MAC stays (slirp does not mind).
    const ssh = rt.ownKernel ? sshTarget(m) : null;
    const script = fixupScript({ ...fx, mac: fx.hostname && !ssh ? rt.mac : undefined });
    const r = ssh ? await sshExec(ssh, ['sh', '-c', script], 20_000) : await agentExec(machineFiles(m.dir).agentSock, ['sh', '-c', script], 20_000);
    if (r.code !== 0 || !r.stdout.includes('fixed')) throw new Error(`guest fix-ups failed (exit ${r.code}): ${firstLine(r.stderr)}`);
    // New host keys: the pin copied from the snapshot is the old key's; the next connection pins the new one.
    if (fx.newIdentity) fs.rmSync(machineFiles(m.dir).knownHost, { force: true });
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
