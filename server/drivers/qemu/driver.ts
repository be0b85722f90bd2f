import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { ConsoleSource } from '@/server/core/console/source';
import { firstLine, run } from '../exec';
import type { BootFiles, MachineDriver, MachineSpec } from '../types';
import { machineFiles, qemuArgv } from './argv';
import { agentExec } from './agent';
import { Qmp } from './qmp';
import { serialConsole } from './serial';

/** What the busybox image's init prints on the console once it is up (see busybox-image.ts). */
const READY_MARKER = 'hangar-ready';

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
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isQemuPid(pid);
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
    fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    // A qcow2 overlay on the image: ten machines cost ten small files, not ten copies.
    const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'qcow2', machineFiles(m.dir).disk, `${m.diskGib}G`], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
    return { mac: randomMac() };
  }

  async start(m: MachineSpec, image: BootFiles, accel: 'kvm' | 'tcg') {
    const f = machineFiles(m.dir);
    for (const stale of [f.pid, f.serialSock, f.qmpSock]) fs.rmSync(stale, { force: true });
    const mac = typeof m.runtime.mac === 'string' ? m.runtime.mac : randomMac();
    const argv = qemuArgv({ name: m.name, dir: m.dir, accel, cpus: m.cpus, memoryMib: m.memoryMib, kernel: image.kernel, initrd: image.initrd, mac, ports: m.ports });
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
    return { pid, mac, accel };
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
    const qmp = await Qmp.connect(f.qmpSock, 2000).catch(() => null);
    if (qmp) {
      await qmp.execute('quit').catch(() => undefined);
      qmp.close();
    }
    if (!(await waitGone(pid, 3000))) {
      process.kill(pid, 'SIGKILL');
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
    try {
      return fs.readFileSync(machineFiles(m.dir).serialLog, 'latin1').includes(READY_MARKER);
    } catch {
      return false;
    }
  }

  async status(m: MachineSpec) {
    if (!this.isRunning(m)) return 'stopped' as const;
    const s = await this.qmp<{ running: boolean; status: string }>(m, 'query-status').catch(() => null);
    return s && !s.running && s.status === 'paused' ? ('paused' as const) : ('running' as const);
  }

  openConsole(m: MachineSpec): ConsoleSource {
    return serialConsole(machineFiles(m.dir), () => this.isRunning(m));
  }

  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    return agentExec(machineFiles(m.dir).agentSock, argv, opts.timeoutMs);
  }

  async destroy(m: MachineSpec) {
    if (this.isRunning(m)) await this.stop(m, { force: true, timeoutMs: 0 });
    fs.rmSync(m.dir, { recursive: true, force: true });
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
