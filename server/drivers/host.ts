import { accessSync, constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Capability, CapabilityName, HostInfo } from '@/lib/contracts/host';
import { firstLine, lastLine, run, which } from './exec';

/**
 * A 512-byte x86 boot sector that prints HANGAR-OK on COM1 and halts: the smallest real
 * guest, so "QEMU can run a guest with this accelerator" is tested, not assumed.
 *   cli; xor ax,ax; mov ds,ax; cld; mov dx,0x3f8; mov si,msg
 *   l: lodsb; or al,al; jz d; out dx,al; jmp l    d: hlt; jmp d
 */
const BOOT_CODE = [0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0xfc, 0xba, 0xf8, 0x03, 0xbe, 0x17, 0x7c, 0xac, 0x08, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4, 0xeb, 0xfd];
const MARKER = 'HANGAR-OK';

export function bootSector(): Buffer {
  const img = Buffer.alloc(512);
  Buffer.from(BOOT_CODE).copy(img, 0);
  Buffer.from(`${MARKER}\r\n\0`, 'latin1').copy(img, BOOT_CODE.length);
  img[510] = 0x55;
  img[511] = 0xaa;
  return img;
}

export interface ProbeOptions {
  /** Scratch space for probe files (overlay mount, reflink copy, boot image). */
  workDir: string;
  /** A Linux kernel to confirm KVM with (KVM can run a boot sector and still hang real kernels). */
  kernel?: string | null;
  kvmTimeoutMs?: number;
}

type Cap = Capability;
const cap = (name: CapabilityName, available: boolean, reason: string, version: string | null = null, details: Record<string, string> = {}): Cap => ({
  name,
  available,
  reason,
  version,
  details,
});

export async function probeHost(opts: ProbeOptions): Promise<HostInfo> {
  const t0 = performance.now();
  await fs.mkdir(opts.workDir, { recursive: true });
  const [qemuCaps, nspawn, podman, criu, overlayfs, reflink, nat] = await Promise.all([
    probeQemu(opts),
    probeNspawn(),
    probePodman(),
    probeCriu(),
    probeOverlay(opts.workDir),
    probeReflink(opts.workDir),
    natSupport().then((n) => cap('nat', n.ok, n.ok ? 'veth + iptables masquerade for containers (network "nat")' : (n.reason ?? 'unavailable'))),
  ]);
  return {
    hostname: os.hostname(),
    kernel: `${os.type()} ${os.release()}`,
    cpus: os.cpus().length,
    memoryMib: Math.round(os.totalmem() / 1048576),
    probedAt: Date.now(),
    probeMs: Math.round(performance.now() - t0),
    capabilities: [...qemuCaps, nspawn, podman, criu, overlayfs, reflink, nat],
  };
}

async function probeQemu(opts: ProbeOptions): Promise<Cap[]> {
  const bin = await which('qemu-system-x86_64');
  if (!bin) {
    const why = 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 qemu-utils).';
    return [cap('qemu', false, why), cap('kvm', false, why), cap('tcg', false, why)];
  }
  const version = firstLine((await run([bin, '--version'], { timeoutMs: 5000 })).stdout).replace(/^QEMU emulator version /, '');
  // One image per accelerator: QEMU write-locks its disk images, and the two probes run at once.
  const [tcgImg, kvmImg] = ['tcg', 'kvm'].map((a) => path.join(opts.workDir, `boot-probe-${a}.img`));
  await Promise.all([fs.writeFile(tcgImg, bootSector()), fs.writeFile(kvmImg, bootSector())]);
  const [tcg, kvm] = await Promise.all([bootProbe(bin, 'tcg', tcgImg, 15_000), probeKvm(bin, kvmImg, opts)]);
  return [
    cap('qemu', true, bin, version),
    kvm,
    tcg.ok ? cap('tcg', true, `software emulation boots a guest (${Math.round(tcg.ms)} ms)`, version) : cap('tcg', false, tcg.why, version),
  ];
}

async function probeKvm(bin: string, img: string, opts: ProbeOptions): Promise<Cap> {
  try {
    await fs.access('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return cap('kvm', false, '/dev/kvm is missing or not accessible: machines use TCG (slower).');
  }
  const timeout = opts.kvmTimeoutMs ?? 5000;
  const sector = await bootProbe(bin, 'kvm', img, timeout);
  if (!sector.ok) return cap('kvm', false, `/dev/kvm exists but a guest did not run: ${sector.why} Using TCG.`);
  if (!opts.kernel) {
    return cap(
      'kvm',
      false,
      '/dev/kvm runs a boot sector, but no Linux kernel is cached yet to confirm it (on some hosts KVM hangs real kernels). Using TCG until an image is built.',
    );
  }
  // A kernel with no root fs panics after its whole early boot: reaching the panic proves it ran.
  const r = await run(
    [
      bin,
      '-accel',
      'kvm',
      '-cpu',
      'host',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-m',
      '256',
      '-serial',
      'stdio',
      '-kernel',
      opts.kernel,
      '-append',
      'console=ttyS0 panic=-1 root=/dev/hangar-none',
    ],
    { timeoutMs: timeout * 3, until: 'Kernel panic' },
  );
  if (r.matched) return cap('kvm', true, `KVM boots a Linux kernel (${Math.round(r.durationMs)} ms to its first panic).`);
  return cap('kvm', false, `/dev/kvm exists but a Linux kernel hung under it (${r.timedOut ? 'timed out' : lastLine(r.stderr) || 'no output'}). Using TCG.`);
}

async function bootProbe(bin: string, accel: 'kvm' | 'tcg', img: string, timeoutMs: number): Promise<{ ok: true; ms: number } | { ok: false; why: string }> {
  const r = await run(
    [bin, '-accel', accel, '-nodefaults', '-display', 'none', '-no-reboot', '-m', '16', '-serial', 'stdio', '-drive', `file=${img},format=raw,if=ide`],
    { timeoutMs, until: MARKER },
  );
  if (r.matched) return { ok: true, ms: r.durationMs };
  return { ok: false, why: r.timedOut ? `no output within ${timeoutMs / 1000} s.` : lastLine(r.stderr) || `qemu exited with ${r.code}.` };
}

async function probeNspawn(): Promise<Cap> {
  const bin = await which('systemd-nspawn');
  if (!bin) return cap('nspawn', false, 'systemd-nspawn is not installed (apt-get install systemd-container).');
  const version = firstLine((await run([bin, '--version'], { timeoutMs: 5000 })).stdout);
  const details: Record<string, string> = {};
  // machined is reached over the system bus: without the bus, nspawn cannot register machines.
  const machined = await fs.access('/run/dbus/system_bus_socket').then(
    () => true,
    () => false,
  );
  details.register = machined ? 'yes (systemd-machined runs)' : 'no: --register=no --keep-unit (no machined/dbus)';
  const unified = await fs.access('/sys/fs/cgroup/cgroup.controllers').then(
    () => true,
    () => false,
  );
  details.cgroup = unified ? 'v2 (unified)' : 'v1 or hybrid: SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1';
  return cap('nspawn', true, bin, version, details);
}

/** Global podman flags that work on this host: the defaults, else runc + cgroupfs (needed on this kind of host). */
export async function podmanFlags(bin = 'podman'): Promise<{ flags: string[]; runtime: string } | null> {
  for (const flags of [['--runtime', 'runc', '--cgroup-manager=cgroupfs'], []]) {
    const r = await run([bin, ...flags, 'info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}'], { timeoutMs: 15_000 });
    if (r.code === 0) return { flags, runtime: firstLine(r.stdout) };
  }
  return null;
}

/** Lowered ulimits podman needs here (its defaults exceed what the runtime may set). */
export const PODMAN_ULIMITS = ['--ulimit', 'nofile=1000:1000', '--ulimit', 'nproc=1000:1000'];

async function probePodman(): Promise<Cap> {
  const bin = await which('podman');
  if (!bin) return cap('podman', false, 'podman is not installed (apt-get install podman runc).');
  const version = firstLine((await run([bin, '--version'], { timeoutMs: 5000 })).stdout).replace(/^podman version /, '');
  const found = await podmanFlags(bin);
  if (!found) return cap('podman', false, 'podman is installed but `podman info` fails with every known runtime configuration.', version);
  return cap('podman', true, `podman ${version} answers with ${found.flags.length ? found.flags.join(' ') : 'its defaults'}`, version, {
    flags: found.flags.join(' '),
    runtime: found.runtime,
    ulimits: PODMAN_ULIMITS.filter((x) => x !== '--ulimit').join(' '),
  });
}

async function probeCriu(): Promise<Cap> {
  const bin = await which('criu');
  if (!bin) return cap('criu', false, 'criu is not installed: containers get filesystem checkpoints only (apt-get install criu).');
  const r = await run([bin, 'check'], { timeoutMs: 20_000 });
  const version = firstLine((await run([bin, '--version'], { timeoutMs: 5000 })).stdout);
  if (r.code === 0) return cap('criu', true, 'criu check passes: live container checkpoints', version);
  const why = firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`;
  return cap('criu', false, `criu check fails on this kernel (${why}): containers get filesystem checkpoints only.`, version);
}

async function probeOverlay(workDir: string): Promise<Cap> {
  const fsList = await fs.readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\toverlay\n/.test(fsList)) return cap('overlayfs', false, 'the kernel does not list overlay in /proc/filesystems.');
  const base = await fs.mkdtemp(path.join(workDir, 'ovl-'));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(base, d));
  try {
    await Promise.all([lower, upper, work, merged].map((d) => fs.mkdir(d)));
    await fs.writeFile(path.join(lower, 'probe'), 'x');
    const m = await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { timeoutMs: 5000 });
    if (m.code !== 0) return cap('overlayfs', false, `mounting an overlay failed: ${firstLine(m.stderr)}`);
    const seen = await fs.readFile(path.join(merged, 'probe'), 'utf8').catch(() => '');
    await run(['umount', merged], { timeoutMs: 5000 });
    return seen === 'x'
      ? cap('overlayfs', true, 'kernel overlayfs mounts here')
      : cap('overlayfs', false, 'an overlay mounted but did not show its lower layer.');
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
}

async function probeReflink(workDir: string): Promise<Cap> {
  const a = path.join(workDir, 'reflink-a');
  const b = path.join(workDir, 'reflink-b');
  try {
    await fs.writeFile(a, Buffer.alloc(4096, 1));
    const r = await run(['cp', '--reflink=always', a, b], { timeoutMs: 5000 });
    if (r.code === 0) return cap('reflink', true, 'the data dir filesystem clones files (cp --reflink)');
    return cap('reflink', false, 'the data dir filesystem cannot clone files: snapshots use qcow2 overlays and sparse copies.');
  } finally {
    await fs.rm(a, { force: true });
    await fs.rm(b, { force: true });
  }
}

/** The host can do NAT for containers: iproute2, iptables and a writable ip_forward. */
async function natSupport(): Promise<{ ok: boolean; reason: string | null }> {
  const ip = await run(['ip', '-V'], { timeoutMs: 5000 });
  if (ip.code !== 0) return { ok: false, reason: 'iproute2 (ip) is missing' };
  const ipt = await run(['iptables', '-w', '5', '-t', 'nat', '-S', 'POSTROUTING'], { timeoutMs: 10_000 });
  if (ipt.code !== 0) return { ok: false, reason: `iptables cannot edit the nat table: ${firstLine(ipt.stderr) || 'not installed'}` };
  try {
    accessSync('/proc/sys/net/ipv4/ip_forward', fsConstants.W_OK);
  } catch {
    return { ok: false, reason: 'IP forwarding cannot be switched on (read-only /proc/sys)' };
  }
  return { ok: true, reason: null };
}
