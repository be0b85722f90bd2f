import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { containerCounters } from '../container-stats';
import { busy, cgroupDirs, killCgroup, removeCgroup } from '../shared/cgroups';
import { alive, holderAlive, holderExit, holderExitCode, holderFiles, holderPid, initPid, readPids, spawnHolder, waitGone } from '../shared/holder-files';
import { logConsole, logSince, logSize } from '../shared/log-console';
import type { BootFiles, BranchTarget, CheckpointResult, ConsoleSource, MachineDriver, MachineSpec, RunOnceIo, SnapshotSource, StreamIo } from '../types';
import { hasSystemd, ociProcess } from '../oci/bundle';
import { containerVolumes } from '../shared/volumes';
import { checkpointTree, snapshotVolumes, withVolumes } from '../shared/volume-snapshots';
import { nspawnLiveVolumes } from './volumes-live';
import { containerDirs, hostnameOf, natOf, nspawnArgv } from './argv';
import { addToUpper, layered, ociOf } from './layers';
import { describeNspawn, nspawnFacts } from './describe';
import { nspawnSshd } from './sshd';
import { nspawnArchiver } from './archive';
import { nspawnMove } from './move';
import { enterCgroups, execIn, execStreamIn, netDown, runOnceIn, shellIn } from './inside';
import { natUpFor, releaseSubnet } from './network';
import { cgroupFor, cgroupOf, commandOf, networkOf, nspawnRuntime, stackOf } from './runtime';
import { unitFile } from './unit';

/** A container is ready when its console offers a login, or logs root in (systemd reached getty). */
/**
 * An OS container offers a login, or (root logged in on the console by agetty --autologin) root's shell
 * prompt. agetty's "NAME login: root (automatic login)" line can be lost: login(1) hangs the tty up as it
 * starts, and a hangup flushes what the holder had not read yet (seen with debian-13 on a loaded host).
 */
export const READY = /\blogin: |root@[a-z0-9-]+:~# /;

/** systemd-nspawn OS containers; each runs under a console holder (dist/holder.js) so it outlives the server. */
export class NspawnDriver implements MachineDriver {
  readonly kind = 'nspawn' as const;
  readonly snapshotFiles = { checked: [], bulk: [] };
  // A restore's new upper dir replaces the machine's: it must be stopped first.
  readonly branchesBesideRunning = false;
  readonly archive = nspawnArchiver;
  readonly describe = describeNspawn;
  readonly facts = nspawnFacts;
  readonly sshd = nspawnSshd;
  // Volumes: bound into a running container too (see volumes-live.ts).
  readonly disks = containerVolumes((m) => this.isRunning(m), nspawnLiveVolumes);
  // Between nodes: its directories packed and copied; a running one frozen meanwhile and started there (move.ts).
  readonly move = nspawnMove(this);

  async create(m: MachineSpec, image: BootFiles) {
    if (!image.rootfs || !fs.existsSync(image.rootfs))
      throw new Error('This image has no root filesystem for containers: use debian-12 (busybox is for VMs only).');
    let rec = nspawnRuntime(m.runtime);
    let root = image.rootfs;
    if (image.oci && rec.boot) {
      // Booted like any root filesystem: its systemd on the overlay of its layers, an OS container. The lowest layer is the
      // root nspawn checks for an OS (os-release) instead of the empty shim.
      if (!hasSystemd(image.oci.layers)) throw new Error(`Image ${image.image} holds no systemd (no /lib/systemd/systemd): it cannot boot.`);
      [root] = image.oci.layers;
      rec = { ...rec, command: null, entrypoint: null, imageLayers: image.oci.layers.slice(1) };
    } else if (image.oci) {
      // The image's entrypoint and command (or the ones given), env, working dir and numeric user.
      const { argv, process } = ociProcess(image.oci.config, image.oci.layers, rec.command ?? null, rec.entrypoint ?? null);
      rec = { ...rec, command: argv, oci: process, imageLayers: image.oci.layers };
    }
    const runtime = layered(m, rec, [], root);
    const what = image.oci ? `${image.oci.layers.length} layers of OCI image ${image.image}` : `image ${image.image}`;
    return { runtime, log: [`root: overlay of ${what} and the machine's own upper dir`] };
  }

  private rootfsOf(m: MachineSpec, image?: BootFiles): string {
    const rootfs = nspawnRuntime(m.runtime).rootfs ?? image?.rootfs;
    if (!rootfs || !fs.existsSync(rootfs)) throw new Error('The image root filesystem is gone: rebuild the image.');
    return rootfs;
  }

  runOnce(m: MachineSpec, io: RunOnceIo) {
    return runOnceIn(m, this.rootfsOf(m), io);
  }

  async start(given: MachineSpec, image: BootFiles) {
    const m = { ...given, runtime: { ...given.runtime, cgroup: cgroupFor(given) } };
    const rootfs = this.rootfsOf(m, image);
    const f = holderFiles(m.dir);
    const serialFrom = logSize(f.log);
    fs.rmSync(f.pid, { force: true });
    const cg = enterCgroups(m);
    const nat = natOf(m);
    // Port forwards live in the holder: they answer exactly while the container runs.
    const forwards = nat && m.ports.length ? JSON.stringify(m.ports.map((p) => ({ port: p.host, to: nat.guestAddr, toPort: p.guest }))) : '';
    spawnHolder(m.dir, [...cg.argv, ...nspawnArgv(m, rootfs)], { HANGAR_FORWARDS: forwards });
    const end = Date.now() + 5000;
    let pids = readPids(m.dir);
    while (!pids && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      pids = readPids(m.dir);
    }
    if (!pids) throw new Error('The console holder did not start.');
    if (nat) {
      try {
        await natUpFor(nat, pids.child);
      } catch (err) {
        // A container without its network is no use, and must not stay behind running.
        killCgroup(cgroupOf(m), pids.child);
        await waitGone(() => alive(pids.child, 'systemd-nspawn') || holderAlive(m.dir), 5000);
        await netDown(m);
        throw err;
      }
    }
    const log = [`nspawn holder pid ${pids.holder}`, ...(cg.limitsNote ? [`warning: ${cg.limitsNote}`] : [])];
    return { runtime: { ...m.runtime, pid: pids.holder, nspawnPid: pids.child, serialFrom }, log };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    const runtime = { ...m.runtime, pid: null };
    const pids = readPids(m.dir);
    if (!pids || !this.isRunning(m)) return { clean: true, runtime };
    const running = () => alive(pids.child, 'systemd-nspawn');
    // The freezer would hold the shutdown back.
    await this.resume(m).catch(() => undefined);
    if (!opts.force) {
      // nspawn turns SIGTERM into an orderly poweroff of the container's systemd.
      try {
        process.kill(pids.child, 'SIGTERM');
      } catch {
        // exited between the check and the signal
      }
      if (await waitGone(running, opts.timeoutMs)) {
        await waitGone(() => holderAlive(m.dir), 2000);
        await netDown(m);
        return { clean: true, runtime };
      }
    }
    // SIGKILL to nspawn alone would orphan the container's init: kill the whole cgroup.
    killCgroup(cgroupOf(m), pids.child);
    await waitGone(running, 3000);
    await waitGone(() => holderAlive(m.dir), 2000);
    await netDown(m);
    return { clean: false, runtime };
  }

  async pause(m: MachineSpec) {
    fs.writeFileSync(this.freezeFile(m), '1');
  }

  async resume(m: MachineSpec) {
    fs.writeFileSync(this.freezeFile(m), '0');
  }

  private freezeFile(m: MachineSpec): string {
    const cg = cgroupDirs(cgroupOf(m)).unified;
    if (!cg || !fs.existsSync(path.join(cg, 'cgroup.freeze')))
      throw new Error('Pausing needs the cgroup v2 freezer, which this host does not offer to containers.');
    return path.join(cg, 'cgroup.freeze');
  }

  isRunning(m: MachineSpec) {
    return holderAlive(m.dir);
  }

  exitReason(m: MachineSpec) {
    return commandOf(m) ? holderExit(m.dir) : null;
  }

  isReady(m: MachineSpec) {
    // An application container is ready once its command runs; an OS container once it offers a login.
    if (commandOf(m)) return this.isRunning(m);
    return READY.test(logSince(holderFiles(m.dir).log, nspawnRuntime(m.runtime).serialFrom ?? 0));
  }

  async status(m: MachineSpec) {
    if (!this.isRunning(m)) return 'stopped' as const;
    try {
      return fs.readFileSync(path.join(path.dirname(this.freezeFile(m)), 'cgroup.events'), 'utf8').includes('frozen 1')
        ? ('paused' as const)
        : ('running' as const);
    } catch {
      return 'running' as const;
    }
  }

  consoleLog(m: MachineSpec) {
    return holderFiles(m.dir).log;
  }

  /** The container's console through its holder: like a serial line, but with a window size. */
  openConsole(m: MachineSpec): ConsoleSource {
    const f = holderFiles(m.dir);
    const con = logConsole(
      { serialLog: f.log, serialSock: f.consoleSock },
      () => holderPid(m.dir),
      () => holderExitCode(m.dir),
    );
    return {
      ...con,
      resize: (cols, rows) => {
        const s = net.connect(f.controlSock, () => s.end(`${JSON.stringify({ cols, rows })}\n`));
        s.on('error', () => undefined);
      },
    };
  }

  openShell(m: MachineSpec, cols: number, rows: number) {
    return shellIn(m, cols, rows);
  }

  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    return execIn(m, argv, opts);
  }

  execStream(m: MachineSpec, argv: string[], io: StreamIo) {
    return execStreamIn(m, argv, io);
  }

  async destroy(m: MachineSpec) {
    if (this.isRunning(m)) await this.stop(m, { force: true, timeoutMs: 0 });
    const pids = readPids(m.dir);
    if (pids) killCgroup(cgroupOf(m), pids.child);
    await waitGone(() => cgroupDirs(cgroupOf(m)).all.some(busy), 5000);
    await netDown(m);
    releaseSubnet(m, nspawnRuntime(m.runtime).netIndex);
    fs.rmSync(m.dir, { recursive: true, force: true, maxRetries: 3 });
    // Its cgroups: the last start's, and the id's own (started before cgroup names had a node's tag).
    for (const name of new Set([cgroupOf(m), m.id])) for (const g of cgroupDirs(name).all) removeCgroup(g);
    // nspawn leaves its (empty) propagation dir behind where /run is not a tmpfs.
    for (const d of ['incoming', '']) {
      try {
        fs.rmdirSync(path.join('/run/systemd/nspawn/propagate', hostnameOf(m), d));
      } catch {
        // not there, or not empty: left alone
      }
    }
  }

  /** A filesystem checkpoint (see checkpointTree): a restore or fork boots from it (about a second). */
  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    const freeze = async () => (await this.pause(m), () => this.resume(m));
    return checkpointTree(m, containerDirs(m.dir).upper, dir, this.isRunning(m) ? freeze : null);
  }

  /** What branch() stacks again: the image root and the layers below, the network and command. */
  snapshotRecord(m: MachineSpec) {
    const rt = nspawnRuntime(m.runtime);
    const oci = ociOf(rt);
    return {
      ssh: rt.ssh === true,
      rootfs: rt.rootfs,
      lowers: rt.lowers ?? [],
      network: rt.network,
      command: rt.command ?? null,
      ...oci,
      ...snapshotVolumes(m),
    };
  }

  /** Each machine gets a fresh upper dir over the snapshot's layers and its frozen one. */
  async branch(snap: SnapshotSource, targets: BranchTarget[]) {
    const rec = nspawnRuntime(snap.record);
    if (!rec.rootfs) throw new Error('The snapshot does not say which image root it was taken on.');
    const lowers = [...(rec.lowers ?? []), snap.frozen];
    // Each machine on the NAT network gets a subnet of its own (a restore: a new lease, the old one goes with destroy or stays leased by the same id).
    // Volumes: each machine a copy of the snapshot's contents.
    const runtimes = targets.map((t) => layered(t, rec, lowers, rec.rootfs!));
    return withVolumes(snap, targets, runtimes);
  }

  /** Its image root too: an imported snapshot's root is a layer of the data dir, kept while machines or snapshots stand on it. */
  layersOf(runtime: Record<string, unknown>) {
    const root = nspawnRuntime(runtime).rootfs;
    return [...(root ? [root] : []), ...stackOf({ runtime })];
  }

  chainOf(frozen: string) {
    return fs.existsSync(frozen) ? [path.resolve(frozen)] : [];
  }

  /** Overlay directories, bottom first: the image root, an OCI image's layers, the snapshots' frozen layers, then its own. */
  readonly diffSource = {
    snapshot: (frozen: string, record: Record<string, unknown>) => {
      const rec = nspawnRuntime(record);
      return { kind: 'layers' as const, layers: [...(rec.rootfs ? [rec.rootfs] : []), ...(rec.imageLayers ?? []), ...(rec.lowers ?? []), frozen] };
    },
    machine: (m: MachineSpec) => ({ kind: 'layers' as const, layers: [...this.layersOf(m.runtime), containerDirs(m.dir).upper] }),
  };

  async repair() {
    return null;
  }

  async fixup() {
    // Nothing restores a container's memory yet, so nothing to fix.
  }

  unitFile(m: MachineSpec) {
    return unitFile(m);
  }

  /** Files land in the writable layer before the overlay is mounted. */
  addFiles(m: MachineSpec, files: { from: string; to: string }[]) {
    return addToUpper(containerDirs(m.dir).upper, files);
  }

  async stats(m: MachineSpec) {
    const pids = readPids(m.dir);
    if (!pids || !this.isRunning(m)) return null;
    const d = cgroupDirs(cgroupOf(m));
    const network = networkOf(nspawnRuntime(m.runtime));
    return containerCounters({
      cpuDir: d.unified ?? d.cpu,
      memoryDir: d.memory,
      procsDir: d.unified ?? d.memory,
      netPid: network === 'host' ? null : initPid(pids.child),
      loopbackOnly: network === 'private',
      upper: containerDirs(m.dir).upper,
      memLimitBytes: m.memoryMib * 2 ** 20,
    });
  }
}
