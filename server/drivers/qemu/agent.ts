import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** POSIX single-quoting: inside '...' nothing is special, and ' itself is written '\''. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The script the guest runs for an argv: each argument quoted, so none is parsed by the guest shell. */
export function scriptFor(argv: string[]): string {
  return `exec ${argv.map(shellQuote).join(' ')}\n`;
}

/**
 * The guest side, installed in every image (busybox runs it from its init, Debian as a unit):
 * one request per line on ttyS1, "ID BASE64(script)"; answers "ID RC BASE64(stdout) BASE64(stderr)".
 */
export const AGENT_SCRIPT = `#!/bin/sh
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
# Listening: the busybox init waits for this before it says the machine is ready.
: > /tmp/.hangar-agent-ready
while read -r id req <&3; do
  echo "$req" | base64 -d > /tmp/.agent.sh
  sh /tmp/.agent.sh </dev/null >/tmp/.agent.out 2>/tmp/.agent.err
  rc=$?
  echo "$id $rc $(base64 -w 0 /tmp/.agent.out) $(base64 -w 0 /tmp/.agent.err)" >&3
done
`;

const tails = new Map<string, Promise<unknown>>();
const inFlight = new Map<string, number>();

/** Nothing is running or queued on this machine's agent (the stats sampler asks only then, so no exec waits behind it). */
export const agentIdle = (sockPath: string): boolean => !inFlight.get(sockPath);

/**
 * Run argv in a busybox guest through its agent on ttyS1. The request is base64 on one line
 * and the answer carries base64 stdout and stderr, so no byte of either can break the framing.
 * One request at a time per machine (the agent is a loop).
 */
export function agentExec(sockPath: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const prev = tails.get(sockPath) ?? Promise.resolve();
  inFlight.set(sockPath, (inFlight.get(sockPath) ?? 0) + 1);
  const next = prev.catch(() => undefined).then(() => once(sockPath, argv, timeoutMs));
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

function once(sockPath: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const id = randomBytes(8).toString('hex');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const sock = net.connect(sockPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`The guest agent did not answer within ${timeoutMs / 1000} s (a long command, or an image built before the agent: rebuild it).`));
    }, timeoutMs);
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(`${id} ${Buffer.from(scriptFor(argv)).toString('base64')}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      // Only whole lines: an answer can arrive split over several reads.
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const parts = line.trim().split(' ');
        if (parts[0] !== id || parts.length < 2) continue;
        clearTimeout(timer);
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
      clearTimeout(timer);
      reject(new Error(`Cannot reach the guest agent: ${err.message}`));
    });
  });
}
