import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { shellLine } from '@/lib/shell-quote';
import type { ExecResult } from '../types';

/**
 * The script the guest runs for an argv: each argument quoted, so none is parsed by the guest shell.
 * With a limit, the guest kills the command once it is past (where it has `timeout`, as busybox and
 * coreutils do): a safety net behind the host's kill request, for an agent the request cannot reach
 * (the host restarted meanwhile) or one built before the request existed.
 */
export function scriptFor(argv: string[], limitS?: number): string {
  const cmd = shellLine(argv);
  if (!limitS) return `exec ${cmd}\n`;
  return `if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL ${Math.ceil(limitS)} ${cmd}; fi\nexec ${cmd}\n`;
}

const tails = new Map<string, Promise<unknown>>();
const inFlight = new Map<string, number>();

/** Nothing is running or queued on this machine's agent (the stats sampler asks only then, so no exec waits behind it). */
export const agentIdle = (sockPath: string): boolean => !inFlight.get(sockPath);

/**
 * Run argv in a guest through its agent on ttyS1 (the guest side: images/guest-agent.ts). The request is base64 on one line
 * and the answer carries base64 stdout and stderr, so no byte of either can break the framing.
 * One request at a time per machine (the agent is a loop).
 */
export function agentExec(sockPath: string, argv: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
  const prev = tails.get(sockPath) ?? Promise.resolve();
  inFlight.set(sockPath, (inFlight.get(sockPath) ?? 0) + 1);
  const next = prev.catch(() => undefined).then(() => once(sockPath, argv, timeoutMs, signal));
  tails.set(sockPath, next);
  const done = () => {
    const n = (inFlight.get(sockPath) ?? 1) - 1;
    if (n > 0) inFlight.set(sockPath, n);
    else {
      inFlight.delete(sockPath);
      // The last request is over: keep no promise (nor the map entry) for a machine that may be gone.
      if (tails.get(sockPath) === next) tails.delete(sockPath);
    }
  };
  next.then(done, done);
  return next;
}

function once(sockPath: string, argv: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
  const id = randomBytes(8).toString('hex');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stoppedByCaller());
    const sock = net.connect(sockPath);
    let buf = '';
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    /**
     * The host stops waiting (its limit, or its caller gone): the guest is asked to kill the command, so the machine's
     * next request does not wait behind it. The request goes on this connection before it closes, so the guest reads it
     * before anything the next connection sends (QEMU takes its next client only once this one is gone).
     */
    const giveUp = (err: Error) => {
      settle();
      sock.end(`kill ${id}\n`);
      // A guest that reads nothing: the connection goes anyway.
      setTimeout(() => sock.destroy(), 1000).unref();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        giveUp(
          new Error(
            `The command did not finish within ${timeoutMs / 1000} s (no answer from the guest agent: ` +
              'the command ran too long and was stopped, the guest is not running, or its image was built before the agent and needs a rebuild).',
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => giveUp(stoppedByCaller());
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('latin1');
    // The guest ends the command a second after the host stops waiting (the guest's clock may lag a little).
    sock.on('connect', () => sock.write(`${id} ${Buffer.from(scriptFor(argv, timeoutMs / 1000 + 1)).toString('base64')}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      // Only whole lines: an answer can arrive split over several reads.
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const parts = line.trim().split(' ');
        if (settled || parts[0] !== id || parts.length < 2) continue;
        settle();
        sock.destroy();
        resolve({
          code: Number(parts[1]),
          stdout: Buffer.from(parts[2] ?? '', 'base64').toString('utf8'),
          stderr: Buffer.from(parts[3] ?? '', 'base64').toString('utf8'),
          durationMs: performance.now() - started,
        });
        return;
      }
    });
    sock.on('error', (err) => {
      if (settled) return;
      settle();
      reject(new Error(`Cannot reach the guest agent: ${err.message}`));
    });
  });
}

/** The caller went away (its signal aborted) before the guest answered; the guest was asked to kill the command. */
const stoppedByCaller = () => new Error('The command was stopped: its caller went away.');
