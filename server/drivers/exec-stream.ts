import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { StreamIo } from './types';

/** stderr kept from a streamed command (the message of a failure). */
const MAX_STDERR = 64 * 1024;

/** A streamed command that reached its time limit (io.timeoutMs): told apart from other failures by its type, not its words. */
export class StreamTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`The copy did not finish within ${timeoutMs / 1000} s.`);
  }
}

/** Keep the last bytes of a stream's text. */
export function tailKeeper(): { push(b: Buffer | string): void; text(): string } {
  let kept = '';
  return {
    push: (b) => {
      kept += b.toString();
      if (kept.length > MAX_STDERR) kept = kept.slice(-MAX_STDERR);
    },
    text: () => kept,
  };
}

/** Feed an async iterable into a writable with backpressure, then end it; a sink that goes away ends the feed. */
export async function feed(from: AsyncIterable<Uint8Array> | undefined, sink: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  if (from) {
    for await (const chunk of from) {
      if (sink.destroyed) return;
      if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r).once('close', r));
    }
  }
  sink.end();
}

/**
 * A host command (argv only, its own process group) with stdin fed from `io.stdin` and stdout
 * piped into `io.stdout` with backpressure: nsenter or podman exec for `hangar cp`.
 * `afterKill`: what else must end when the command is stopped (at its limit, its caller gone, its
 * input cut) whose process group is not the command's (podman exec's command is conmon's child);
 * awaited before the result.
 */
export function streamProcess(argv: string[], io: StreamIo, afterKill?: () => Promise<void>): Promise<{ code: number; stderr: string }> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', io.stdout ? 'pipe' : 'ignore', 'pipe'], detached: true, shell: false });
  const err = tailKeeper();
  let timedOut = false;
  let killed = false;
  const kill = () => {
    // Its output or input failing after it ended: nothing is left to stop.
    if (child.exitCode !== null || child.signalCode !== null) return;
    killed = true;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, io.timeoutMs);
  io.signal.addEventListener('abort', kill, { once: true });
  // Aborted before it started (a caller gone while the driver got ready): no listener would hear it.
  if (io.signal.aborted) kill();
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdin?.on('error', () => undefined);
  if (child.stdin)
    feed(io.stdin, child.stdin).catch(() => {
      // The caller's upload broke off: the command must not take half a stream for a whole one.
      kill();
    });
  const out = io.stdout && child.stdout ? pipeline(child.stdout as Readable, io.stdout, { end: false }).catch(() => kill()) : Promise.resolve();
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      io.signal.removeEventListener('abort', kill);
      void out.then(async () => {
        if (killed && afterKill) await afterKill().catch(() => undefined);
        if (timedOut) reject(new StreamTimeoutError(io.timeoutMs));
        else resolve({ code: code ?? (signal ? 137 : 1), stderr: err.text() });
      });
    });
  });
}
