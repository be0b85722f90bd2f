import fs from 'node:fs';
import { killable, run } from '../exec';
import { streamProcess } from '../exec-stream';
import { killByEnv, newEnvMarker } from '../env-marker';
import { PODMAN_ULIMITS } from '../host';
import { containerCounters } from '../container-stats';
import { cgroupDirsOfPid } from '../shared/cgroups';
import { holderAlive, holderExit, holderExitCode, holderFiles, holderPid, readPids, spawnHolder, waitGone } from '../shared/holder-files';
import { logConsole } from '../shared/log-console';
import { branchVolumes, containerVolumes, freezeVolumes, recordVolumes, volumeBinds } from '../shared/volumes';
import type { BootFiles, BranchTarget, CheckpointResult, ConsoleSource, MachineDriver, MachineSpec, RunOnceIo, SnapshotSource, StreamIo } from '../types';
import { podmanArchiver } from './archive';
import { pm, podman } from './cli';
import { describePodman, podmanFacts } from './describe';
import { podmanDiffSource } from './diff-source';
import { createFromRegistry, forgetPodmanCopies, importRootfs, runTail } from './images';
import { MOVE_IMAGE, podmanMove } from './move';
import { commandOf, containerFor, containerName, hostNetwork, podmanRuntime } from './runtime';

/** The machine's memory and CPU as podman limits (its cgroup, v1 or v2). */
const limitFlags = (m: MachineSpec) => ['--memory', `${m.memoryMib}m`, '--memory-swap', `${m.memoryMib}m`, '--cpus', String(m.cpus)];

/**
 * podman application containers on Hangar-built root filesystems (`podman import`): a login
 * shell is the main process, on the console holder's pty (`podman run -it` under
 * dist/holder.js), so the console works like a serial line and the container outlives the
 * server; exec, pause (cgroup freezer through podman), stop, remove. Checkpoints need CRIU.
 */
export class PodmanDriver implements MachineDriver {
  readonly kind = 'podman' as const;
  readonly snapshotFiles = { checked: [], bulk: [] };
  readonly archive = podmanArchiver;
  // A restore's new image replaces the container: it must be gone first.
  readonly branchesBesideRunning = false;
  readonly describe = describePodman;
  readonly disks = containerVolumes((m) => this.isRunning(m));
  readonly facts = podmanFacts;
  // Between nodes: its image saved and loaded there; a running one paused and committed meanwhile, started there (move.ts).
  readonly move = podmanMove(this);

  async create(m: MachineSpec, image: BootFiles) {
    // An OCI image: podman pulls it from its registry itself (the description's ociPull).
    if (image.oci?.pull) return createFromRegistry(m, image, image.oci.pull);
    if (!image.rootfs || !fs.existsSync(image.rootfs))
      throw new Error('This image has no root filesystem for containers: use debian-12 (busybox is for VMs only).');
    const ref = await importRootfs(image.rootfs);
    fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    // The console is the container's shell (or its command): no separate shell channel.
    const network = podmanRuntime(m.runtime).network === 'host' ? 'host' : 'private';
    return { runtime: { image: ref, network, ssh: false, command: commandOf(m) }, log: [`root: podman image ${ref} of image ${image.image}`] };
  }

  forgetImage(image: BootFiles) {
    return forgetPodmanCopies(image).catch(() => undefined);
  }

  async start(m: MachineSpec) {
    const ref = podmanRuntime(m.runtime).image;
    if (!ref) throw new Error('The machine has no podman image recorded: create it again.');
    const f = holderFiles(m.dir);
    const serialFrom = fs.existsSync(f.log) ? fs.statSync(f.log).size : 0;
    // The last run's pid and exit files would read as this run's.
    for (const stale of [f.pid, f.exit]) fs.rmSync(stale, { force: true });
    // The container the last start left (by its recorded name, or an older record's), and one of this start's name.
    const name = containerFor(m);
    for (const old of new Set([containerName(m), name])) await run([...(await podman()), 'rm', '-f', old], { timeoutMs: 60_000 });
    const started = { ...m, runtime: { ...m.runtime, container: name } };
    const argv = [
      ...(await podman()),
      'run',
      '-t',
      '-i',
      '--name',
      name,
      '--hostname',
      m.name,
      '--network',
      hostNetwork(m) ? 'host' : 'none',
      ...PODMAN_ULIMITS,
      ...limitFlags(m),
      ...volumeBinds(m).flatMap((v) => ['-v', `${v.host}:${v.guest}`]),
      '--stop-signal',
      'SIGHUP',
      // bash where the image has it, else its sh (exec: the shell is the container's main process either way).
      ...runTail(m, ref, ['/bin/sh', '-c', '[ -x /bin/bash ] && exec /bin/bash -l; exec /bin/sh -l']),
    ];
    spawnHolder(m.dir, argv);
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const pid = readPids(m.dir)?.holder;
      if (pid && (await this.status(started)) === 'running') return { runtime: { ...started.runtime, pid, serialFrom }, log: [`podman holder pid ${pid}`] };
      if (fs.existsSync(f.exit)) {
        // An application container whose command ended already (`run -it IMAGE -- true`) ran: its output and exit code are
        // kept as for a longer one. podman's own failure (125: no such image, a bad flag) and an OS container's shell ending are not a start.
        const code = holderExitCode(m.dir);
        if (pid && commandOf(m) && code !== 125) {
          // The exit file is being written: read it again.
          if (code === null) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          return { runtime: { ...started.runtime, pid, serialFrom }, log: [`podman holder pid ${pid}; the command has ended already`] };
        }
        await run([...(await podman()), 'rm', '-f', name], { timeoutMs: 60_000 });
        throw new Error(`podman run exited: ${fs.readFileSync(f.log, 'utf8').slice(serialFrom).trim().split('\n').slice(-3).join(' ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Not left running under a name no record has.
    await run([...(await podman()), 'rm', '-f', '-t', '0', name], { timeoutMs: 60_000 });
    throw new Error('The container did not start within 30 s.');
  }

  /** `podman run --rm` of the application container's command, attached: stdout and stderr apart, its exit code. */
  async runOnce(m: MachineSpec, io: RunOnceIo) {
    const ref = podmanRuntime(m.runtime).image;
    const command = commandOf(m);
    if (!ref || !command) throw new Error('Not an application container: it has no image or command.');
    const pod = await podman();
    // The machine's own name (exec and status find it by it while it runs).
    const name = containerName(m);
    const kill = () => void run([...pod, 'rm', '-f', '-t', '0', name], { timeoutMs: 60_000 });
    const argv = [
      ...pod,
      'run',
      '--rm',
      '--name',
      name,
      '--hostname',
      m.name,
      '--network',
      hostNetwork(m) ? 'host' : 'none',
      ...PODMAN_ULIMITS,
      ...limitFlags(m),
      ...volumeBinds(m).flatMap((v) => ['-v', `${v.host}:${v.guest}`]),
      ...runTail(m, ref, command),
    ];
    const { value: r, timedOut } = await killable(io.signal, io.timeoutMs, kill, () => run(argv, { maxOutputBytes: 64 * 1024, onData: io.onData }));
    return { code: r.code ?? 137, timedOut };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    const runtime = { ...m.runtime, pid: null };
    const status = await this.status(m);
    if (status === 'paused') await this.resume(m);
    if (status !== 'stopped') {
      if (opts.force) await pm(['kill', containerName(m)]).catch(() => undefined);
      else await pm(['stop', '-t', String(Math.max(1, Math.round(opts.timeoutMs / 1000))), containerName(m)], opts.timeoutMs + 30_000);
    }
    // The holder ends with its `podman run`; a start before that would read its exit file as its own.
    await waitGone(() => this.isRunning(m), 10_000);
    return { clean: !opts.force, runtime };
  }

  async pause(m: MachineSpec) {
    await pm(['pause', containerName(m)]);
  }

  async resume(m: MachineSpec) {
    await pm(['unpause', containerName(m)]);
  }

  isRunning(m: MachineSpec) {
    return holderAlive(m.dir);
  }

  exitReason(m: MachineSpec) {
    return commandOf(m) ? holderExit(m.dir) : null;
  }

  /** Running as soon as podman says so: the shell is the container. */
  isReady(m: MachineSpec) {
    return this.isRunning(m);
  }

  async status(m: MachineSpec) {
    const r = await run([...(await podman()), 'inspect', '-f', '{{.State.Status}}', containerName(m)], { timeoutMs: 30_000 });
    const s = r.stdout.trim();
    return s === 'running' ? ('running' as const) : s === 'paused' ? ('paused' as const) : ('stopped' as const);
  }

  consoleLog(m: MachineSpec) {
    return holderFiles(m.dir).log;
  }

  openConsole(m: MachineSpec): ConsoleSource {
    const f = holderFiles(m.dir);
    return logConsole(
      { serialLog: f.log, serialSock: f.consoleSock },
      () => holderPid(m.dir),
      () => holderExitCode(m.dir),
    );
  }

  openShell() {
    return null;
  }

  async exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    const marker = newEnvMarker();
    const r = await run([...(await podman()), 'exec', '--env', marker, containerName(m), ...argv], { timeoutMs: opts.timeoutMs });
    if (r.timedOut) {
      // Killing podman's client leaves the command running in the container (podman #19486): it goes by its marker.
      await killByEnv(marker);
      throw new Error(`The command did not finish within ${opts.timeoutMs / 1000} s.`);
    }
    return { code: r.code ?? 128, stdout: r.stdout, stderr: r.stderr, durationMs: Math.round(r.durationMs) };
  }

  /**
   * `podman exec -i`: the container's own tools read and write the streams (`hangar cp`, `hangar exec`).
   * Stopped (its limit, its caller gone, its input cut), the command goes by its marker as in exec.
   */
  async execStream(m: MachineSpec, argv: string[], io: StreamIo) {
    const marker = newEnvMarker();
    return streamProcess([...(await podman()), 'exec', '-i', '--env', marker, containerName(m), ...argv], io, async () => void (await killByEnv(marker)));
  }

  async destroy(m: MachineSpec) {
    // Its container by its recorded name, and by this node's (a start that failed before recording it).
    for (const name of new Set([containerName(m), containerFor(m)])) await run([...(await podman()), 'rm', '-f', '-t', '0', name], { timeoutMs: 60_000 });
    // The image a move brought it here in is its own. A snapshot's commit of the machine keeps working: it is an image
    // of its own whose layers include the ones it stood on (podman removes only the tag and what nothing else uses).
    const moved = podmanRuntime(m.runtime).moveImage;
    if (moved?.startsWith(MOVE_IMAGE)) await pm(['rmi', moved]).catch(() => undefined);
    // The holder writes its exit file into the machine dir as it ends: remove the dir after that.
    await waitGone(() => this.isRunning(m), 10_000);
    fs.rmSync(m.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * A filesystem checkpoint: `podman commit` (the container paused meanwhile) into an image of
   * its own. Live checkpoints would need CRIU, which this kind of host cannot use.
   */
  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ref = `localhost/hangar-snap-${m.id.slice(4).toLowerCase()}:${Date.now().toString(36)}`;
    const t0 = performance.now();
    // Volumes: copied into the snapshot in the same pause as the commit (one pause around both).
    const both = recordVolumes(m.runtime).length > 0 && (await this.status(m)) === 'running';
    if (both) await pm(['pause', containerName(m)]);
    try {
      await pm(['commit', `--pause=${!both}`, containerName(m), ref], 30 * 60_000);
      await freezeVolumes(m, dir);
    } finally {
      if (both) await pm(['unpause', containerName(m)]).catch(() => undefined);
    }
    const pauseMs = Math.round(performance.now() - t0);
    const size = Number((await pm(['image', 'inspect', '--format', '{{.Size}}', ref])).trim()) || 0;
    return { live: false, frozenDisk: ref, pauseMs, sizeBytes: size };
  }

  snapshotRecord(m: MachineSpec) {
    const rt = podmanRuntime(m.runtime);
    // An OCI image's entrypoint and arguments: its commit keeps the image's Entrypoint, so a branch runs it as the machine did.
    return { ssh: rt.ssh === true, network: rt.network, command: rt.command ?? null, ...(rt.oci ? { oci: rt.oci } : {}), volumes: recordVolumes(m.runtime) };
  }

  /** Machines from a snapshot run its committed image. */
  async branch(snap: SnapshotSource, targets: BranchTarget[]) {
    const rec = podmanRuntime(snap.record);
    const out = [];
    for (const t of targets) {
      fs.mkdirSync(t.dir, { recursive: true, mode: 0o700 });
      const volumes = await branchVolumes(snap.dir, snap.record, t.dir);
      const oci = rec.oci ? { oci: rec.oci } : {};
      out.push({ image: snap.frozen, network: rec.network === 'host' ? 'host' : 'private', ssh: false, command: rec.command ?? null, ...oci, volumes });
    }
    return out;
  }

  readonly diffSource = podmanDiffSource;

  layersOf() {
    return [];
  }

  chainOf() {
    return [];
  }

  async dropLayer(frozen: string) {
    if (frozen.startsWith('localhost/hangar-snap-')) await pm(['rmi', '-f', frozen]);
  }

  async repair() {
    return null;
  }

  async fixup() {
    // No memory is restored, so nothing to fix.
  }

  /** The container's main process, asked of podman once per run (the holder's pid tells runs apart). */
  private readonly mainPids = new Map<string, { holder: number; pid: number }>();

  async stats(m: MachineSpec) {
    const pids = readPids(m.dir);
    if (!pids || !this.isRunning(m)) {
      this.mainPids.delete(m.id);
      return null;
    }
    let main = this.mainPids.get(m.id);
    if (!main || main.holder !== pids.holder || !fs.existsSync(`/proc/${main.pid}`)) {
      const pid = Number((await pm(['inspect', '--format', '{{.State.Pid}}', containerName(m)], 10_000).catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 0) return null;
      main = { holder: pids.holder, pid };
      this.mainPids.set(m.id, main);
    }
    const d = cgroupDirsOfPid(main.pid);
    return containerCounters({
      cpuDir: d.unified ?? d.cpu,
      memoryDir: d.memory,
      procsDir: d.unified ?? d.memory,
      // No network of its own but loopback, or the host's (whose figures are not the container's).
      netPid: hostNetwork(m) ? null : main.pid,
      loopbackOnly: true,
      upper: null,
      memLimitBytes: m.memoryMib * 2 ** 20,
    });
  }
}
