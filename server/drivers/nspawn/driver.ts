import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { ConsoleSource } from '@/server/core/console/source';
import { killable, run } from '../exec';
import { spawnPty } from '../pty';
import { serialConsole } from '../qemu/serial';
import type { BootFiles, CheckpointResult, MachineDriver, MachineSpec, RunOnceIo } from '../types';
import { applyLimits, busy, cgroupDirs, ENTER_CGROUPS, execCgroups, killCgroup, removeCgroup } from './cgroups';
import { containerDirs, hostnameOf, natOf, nspawnArgv, prepareUpper } from './argv';
import { alive, commandOf, exitReason, holderAlive, holderFiles, initPid, readPids, waitGone } from './files';
import { leaseSubnet, natPlan, natUpFor, networkOf, releaseSubnet, tearDownNat } from './network';
import { dropNspawnNoise } from './noise';
import { containerCounters } from '../container-stats';

/** A container is ready when its console offers a login, or logs root in (systemd reached getty). */
const READY = /\blogin: /;
const PATH_IN_GUEST = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** systemd-nspawn OS containers; each runs under a console holder (dist/holder.js) so it outlives the server. */
export class NspawnDriver implements MachineDriver {
  readonly kind = 'nspawn' as const;

  async create(m: MachineSpec, image: BootFiles) {
    if (!image.rootfs || !fs.existsSync(image.rootfs))
      throw new Error('This image has no root filesystem for containers: use debian-12 (busybox is for VMs only).');
    const network = networkOf(m.runtime);
    const netIndex = network === 'nat' ? leaseSubnet(m) : null;
    prepareUpper(containerDirs(m.dir).upper, hostnameOf(m), network);
    // `ssh`: the machine offers login shells (for a container: bash through nsenter, see openShell).
    return {
      rootfs: image.rootfs,
      lowers: [],
      network,
      netIndex,
      address: netIndex === null ? null : natPlan(m.id, netIndex).guestAddr,
      ssh: true,
      command: commandOf(m),
    };
  }

  private rootfsOf(m: MachineSpec, image?: BootFiles): string {
    const rootfs = typeof m.runtime.rootfs === 'string' ? m.runtime.rootfs : image?.rootfs;
    if (!rootfs || !fs.existsSync(rootfs)) throw new Error('The image root filesystem is gone: rebuild the image.');
    return rootfs;
  }

  /**
   * The container's cgroups, made, with its memory and CPU limits; a command run through
   * ENTER_CGROUPS starts inside them. `limitsNote`: the limits the host would not take.
   */
  private enterCgroups(m: MachineSpec): { argv: string[]; limitsNote: string | null } {
    const problems = applyLimits(m.id, { memoryMib: m.memoryMib, cpus: m.cpus });
    return {
      argv: ['sh', '-c', ENTER_CGROUPS, 'hangar-enter', ...cgroupDirs(m.id).all, '--'],
      limitsNote: problems.length ? `limits not applied: ${problems.join('; ')}` : null,
    };
  }

  /**
   * An application container's command run once, attached to the caller (no holder, no pty):
   * stdout and stderr stay apart, the exit code is the command's. Killing goes through the
   * cgroup, since the container's processes are not in nspawn's process group.
   */
  async runOnce(m: MachineSpec, io: RunOnceIo) {
    if (!commandOf(m)) throw new Error('Not an application container: it has no command.');
    const cg = this.enterCgroups(m);
    if (cg.limitsNote) io.onData('stderr', Buffer.from(`hangar: ${cg.limitsNote}\n`));
    const argv = [...cg.argv, ...nspawnArgv(m, this.rootfsOf(m), { pipe: true })];
    const err = dropNspawnNoise((t) => io.onData('stderr', Buffer.from(t)));
    const errText = new StringDecoder('utf8');
    const kill = () => killCgroup(m.id);
    const nat = natOf(m);
    let net: Promise<void> = Promise.resolve();
    try {
      const { value: r, timedOut } = await killable(io.signal, io.timeoutMs, kill, () =>
        run(argv, {
          env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' },
          maxOutputBytes: 64 * 1024,
          // `sh` execs nspawn: its pid is nspawn's. A network that cannot be set up ends the run.
          onSpawn: (pid) => {
            if (nat)
              net = natUpFor(nat, pid).catch((e: Error) => {
                err.push(`hangar: ${e.message}\n`);
                kill();
              });
          },
          onData: (stream, chunk) => (stream === 'stdout' ? io.onData('stdout', chunk) : err.push(errText.write(chunk))),
        }),
      );
      await net;
      err.end();
      return { code: r.code ?? 137, timedOut };
    } finally {
      await waitGone(() => cgroupDirs(m.id).all.some(busy), 5000);
      await this.netDown(m);
    }
  }

  async start(m: MachineSpec, image: BootFiles) {
    const rootfs = this.rootfsOf(m, image);
    const f = holderFiles(m.dir);
    const holder = fileURLToPath(new URL('./holder.js', import.meta.url));
    if (!fs.existsSync(holder)) throw new Error(`${holder} is missing: run npm run build.`);
    const serialFrom = fs.existsSync(f.log) ? fs.statSync(f.log).size : 0;
    fs.rmSync(f.pid, { force: true });
    const cg = this.enterCgroups(m);
    const argv = [...cg.argv, ...nspawnArgv(m, rootfs)];
    const nat = natOf(m);
    // Port forwards live in the holder: they answer exactly while the container runs.
    const forwards = nat && m.ports.length ? JSON.stringify(m.ports.map((p) => ({ port: p.host, to: nat.guestAddr, toPort: p.guest }))) : '';
    const child = spawn(process.execPath, [holder, m.dir, '--', ...argv], {
      detached: true,
      stdio: 'ignore',
      cwd: m.dir,
      env: { ...process.env, HANGAR_FORWARDS: forwards },
    });
    child.unref();
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
        killCgroup(m.id, pids.child);
        await waitGone(() => alive(pids.child, 'systemd-nspawn') || holderAlive(m.dir), 5000);
        await this.netDown(m);
        throw err;
      }
    }
    return { pid: pids.holder, nspawnPid: pids.child, serialFrom, limitsNote: cg.limitsNote };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    const pids = readPids(m.dir);
    if (!pids || !this.isRunning(m)) return { clean: true };
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
        await this.netDown(m);
        return { clean: true };
      }
    }
    // SIGKILL to nspawn alone would orphan the container's init: kill the whole cgroup.
    killCgroup(m.id, pids.child);
    await waitGone(running, 3000);
    await waitGone(() => holderAlive(m.dir), 2000);
    await this.netDown(m);
    return { clean: false };
  }

  private async netDown(m: MachineSpec): Promise<void> {
    const nat = natOf(m);
    if (nat) await tearDownNat(nat).catch(() => undefined);
  }

  async pause(m: MachineSpec) {
    fs.writeFileSync(this.freezeFile(m), '1');
  }

  async resume(m: MachineSpec) {
    fs.writeFileSync(this.freezeFile(m), '0');
  }

  private freezeFile(m: MachineSpec): string {
    const cg = cgroupDirs(m.id).unified;
    if (!cg || !fs.existsSync(path.join(cg, 'cgroup.freeze')))
      throw new Error('Pausing needs the cgroup v2 freezer, which this host does not offer to containers.');
    return path.join(cg, 'cgroup.freeze');
  }

  isRunning(m: MachineSpec) {
    return holderAlive(m.dir);
  }

  exitReason(m: MachineSpec) {
    return exitReason(m);
  }

  isReady(m: MachineSpec) {
    // An application container is ready once its command runs; an OS container once it offers a login.
    if (commandOf(m)) return this.isRunning(m);
    const from = typeof m.runtime.serialFrom === 'number' ? m.runtime.serialFrom : 0;
    try {
      const fd = fs.openSync(holderFiles(m.dir).log, 'r');
      try {
        const len = Math.max(0, fs.fstatSync(fd).size - from);
        const buf = Buffer.alloc(Math.min(len, 1 << 20));
        fs.readSync(fd, buf, 0, buf.length, from + len - buf.length);
        return READY.test(buf.toString('utf8'));
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return false;
    }
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
    const con = serialConsole({ serialLog: f.log, serialSock: f.consoleSock }, () => this.isRunning(m));
    return {
      ...con,
      resize: (cols, rows) => {
        const s = net.connect(f.controlSock, () => s.end(`${JSON.stringify({ cols, rows })}\n`));
        s.on('error', () => undefined);
      },
    };
  }

  /** A login shell in the container (bash on a pty of its own, through nsenter): the "SSH" channel of a container. */
  openShell(m: MachineSpec, cols: number, rows: number) {
    const init = this.init(m);
    if (!init) return Promise.reject(new Error('The container is not running.'));
    return Promise.resolve(
      spawnPty(
        [
          ...this.inCgroups(m),
          'nsenter',
          '-t',
          String(init),
          '-a',
          '--',
          '/usr/bin/env',
          '-i',
          PATH_IN_GUEST,
          'HOME=/root',
          'TERM=xterm-256color',
          '/bin/bash',
          '-l',
        ],
        { cols, rows, cwd: '/' },
      ),
    );
  }

  /** The argv prefix that puts a command into the container's cgroups first (its limits, its figures). */
  private inCgroups(m: MachineSpec): string[] {
    const dirs = execCgroups(m.id);
    return dirs.length ? ['sh', '-c', ENTER_CGROUPS, 'hangar-exec', ...dirs, '--'] : [];
  }

  private init(m: MachineSpec): number | null {
    const pids = readPids(m.dir);
    return pids ? initPid(pids.child) : null;
  }

  /** In the container's namespaces (nsenter into init), with a clean environment. */
  async exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    const init = this.init(m);
    if (!init) throw new Error('The container is not running.');
    const r = await run(
      [...this.inCgroups(m), 'nsenter', '-t', String(init), '-a', '--', '/usr/bin/env', '-i', PATH_IN_GUEST, 'HOME=/root', 'TERM=dumb', ...argv],
      { timeoutMs: opts.timeoutMs },
    );
    if (r.timedOut) throw new Error(`The command did not finish within ${opts.timeoutMs / 1000} s.`);
    return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr, durationMs: Math.round(r.durationMs) };
  }

  async destroy(m: MachineSpec) {
    if (this.isRunning(m)) await this.stop(m, { force: true, timeoutMs: 0 });
    const pids = readPids(m.dir);
    if (pids) killCgroup(m.id, pids.child);
    await waitGone(() => cgroupDirs(m.id).all.some(busy), 5000);
    await this.netDown(m);
    releaseSubnet(m, m.runtime.netIndex);
    fs.rmSync(m.dir, { recursive: true, force: true, maxRetries: 3 });
    for (const g of cgroupDirs(m.id).all) removeCgroup(g);
    // nspawn leaves its (empty) propagation dir behind where /run is not a tmpfs.
    for (const d of ['incoming', '']) {
      try {
        fs.rmdirSync(path.join('/run/systemd/nspawn/propagate', hostnameOf(m), d));
      } catch {
        // not there, or not empty: left alone
      }
    }
  }

  /**
   * A filesystem checkpoint: the upper dir copied (reflinked where the filesystem can) into a
   * new frozen layer, with the container frozen meanwhile so the copy is consistent. Memory is
   * not saved: a restore or fork boots from it (about a second).
   */
  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const frozen = path.join(m.layers, `${m.id}-${Date.now().toString(36)}.d`);
    fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
    const running = this.isRunning(m);
    const t0 = performance.now();
    if (running) await this.pause(m);
    try {
      const r = await run(['cp', '-a', '--reflink=auto', '--', `${containerDirs(m.dir).upper}/.`, `${frozen}/`], { timeoutMs: 30 * 60_000 });
      if (r.code !== 0) throw new Error(`copying the container's layer failed: ${r.stderr.trim().split('\n')[0]}`);
    } catch (err) {
      fs.rmSync(frozen, { recursive: true, force: true });
      throw err;
    } finally {
      if (running) await this.resume(m).catch(() => undefined);
    }
    return { live: false, frozenDisk: frozen, disk: '', pauseMs: running ? Math.round(performance.now() - t0) : null };
  }

  /** Each machine gets a fresh upper dir over the snapshot's layers and its frozen one. */
  async branch(frozen: string, targets: { id: string; dir: string; layers: string; name: string }[], spec: Record<string, unknown>) {
    const lowers = [...(Array.isArray(spec.lowers) ? (spec.lowers as string[]) : []), frozen];
    const rootfs = typeof spec.rootfs === 'string' ? spec.rootfs : null;
    if (!rootfs) throw new Error('The snapshot does not say which image root it was taken on.');
    const network = networkOf(spec);
    return targets.map((t) => {
      // Each machine on the NAT network gets a subnet of its own (a restore: a new lease, the old one goes with destroy or stays leased by the same id).
      const netIndex = network === 'nat' ? leaseSubnet(t) : null;
      prepareUpper(containerDirs(t.dir).upper, hostnameOf(t), network);
      return {
        rootfs,
        lowers,
        network,
        netIndex,
        address: netIndex === null ? null : natPlan(t.id, netIndex).guestAddr,
        ssh: true,
        command: Array.isArray(spec.command) ? spec.command : null,
      };
    });
  }

  async activeDisk() {
    return null;
  }

  async fixup() {
    // Nothing restores a container's memory yet, so nothing to fix.
  }

  async stats(m: MachineSpec) {
    const pids = readPids(m.dir);
    if (!pids || !this.isRunning(m)) return null;
    const d = cgroupDirs(m.id);
    const network = networkOf(m.runtime);
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
