import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from '@/server/drivers/exec';

/** A running qemu's argv, as Hangar started it. */
export const cmdlineOf = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, -1);

/**
 * The same qemu (machine, devices, accelerator, RAM backend: `argv` is a restored machine's own
 * command line) with its files in a scratch dir, a scratch disk and no host forwards, not daemonized, started
 * paused (`-S`) instead of waiting for a migration stream.
 */
export function bareArgv(argv: string[], machineDir: string, scratch: string, disk: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-daemonize') continue;
    if (a === '-pidfile' || a === '-incoming') {
      i++;
      continue;
    }
    if (a.startsWith('file=') && argv[i - 1] === '-drive') out.push(a.replace(/^file=[^,]*/, `file=${disk}`));
    // The same NIC without its host forwards: the machine (paused meanwhile) holds those ports.
    else if (argv[i - 1] === '-nic') out.push(a.replace(/,hostfwd=[^,]*/g, ''));
    else out.push(a.split(machineDir).join(scratch));
  }
  return [...out, '-S'];
}

/** First answer from QMP at `sock`: connect (retrying every ms until qemu listens), greeting, `qmp_capabilities`. */
function firstAnswer(sock: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(sock);
      let buf = '';
      s.setEncoding('utf8');
      s.on('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`no QMP at ${sock} within ${timeoutMs} ms`));
        else setTimeout(attempt, 1);
      });
      s.on('data', (d: string) => {
        buf += d;
        if (buf.includes('"QMP"') && !buf.includes('qmp_capabilities sent')) {
          buf = 'qmp_capabilities sent';
          s.write('{"execute":"qmp_capabilities"}\n');
        } else if (buf.includes('"return"')) {
          s.destroy();
          resolve();
        }
      });
    };
    attempt();
  });
}

/** Milliseconds from spawning the bare qemu to its first QMP answer (then it is killed). */
export async function bareStartMs(argv: string[], machineDir: string): Promise<number> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bare-'));
  try {
    const disk = path.join(scratch, 'disk.qcow2');
    const mk = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '1G'], { timeoutMs: 30_000 });
    if (mk.code !== 0) throw new Error(`qemu-img: ${mk.stderr}`);
    const bare = bareArgv(argv, machineDir, scratch, disk);
    const qmp = bare.find((a) => a.startsWith('unix:') && a.includes('qmp.sock'))?.replace(/^unix:([^,]*).*$/, '$1');
    if (!qmp) throw new Error('no QMP socket in the argv');
    const t0 = performance.now();
    const child = spawn(bare[0], bare.slice(1), { stdio: 'ignore' });
    try {
      await firstAnswer(qmp, 10_000);
      return performance.now() - t0;
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
