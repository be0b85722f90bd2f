import { randomBytes } from 'node:crypto';
import { StreamTimeoutError } from '../exec-stream';
import type { StreamIo } from '../types';
import { agentExec } from './agent';

/** Raw bytes per agent request: 64 KiB of base64 on one line of the serial agent. */
const CHUNK = 48 * 1024;
const STEP_MS = 30_000;

async function step(sock: string, argv: string[], signal: AbortSignal): Promise<string> {
  const r = await agentExec(sock, argv, STEP_MS, signal);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
  return r.stdout;
}

/** Chunks of at most `size` bytes from a stream of any chunk sizes (the last may be shorter). */
async function* rechunk(from: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let len = 0;
  for await (const c of from) {
    pending.push(Buffer.from(c));
    len += c.length;
    while (len >= size) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      len -= size;
    }
  }
  if (len > 0) yield Buffer.concat(pending);
}

/**
 * Streams through a guest that has only the serial agent (busybox VMs): the agent runs one
 * script per line and answers whole, so stdin goes to a file in the guest a chunk at a time,
 * the command runs from it into another file, and that is read back a chunk at a time. The
 * server holds one chunk at most; the guest holds the stream in its /tmp meanwhile.
 */
export async function agentExecStream(sock: string, argv: string[], io: StreamIo): Promise<{ code: number; stderr: string }> {
  const id = randomBytes(6).toString('hex');
  const tmpIn = `/tmp/.hangar-stream-${id}.in`;
  const tmpOut = `/tmp/.hangar-stream-${id}.out`;
  const end = Date.now() + io.timeoutMs;
  const check = () => {
    if (io.signal.aborted) throw new Error('The copy was cancelled.');
    if (Date.now() > end) throw new StreamTimeoutError(io.timeoutMs);
  };
  try {
    await step(sock, ['sh', '-c', ': > "$1"', 'sh', tmpIn], io.signal);
    if (io.stdin) {
      for await (const piece of rechunk(io.stdin, CHUNK)) {
        check();
        await step(sock, ['sh', '-c', 'printf %s "$1" | base64 -d >> "$2"', 'sh', piece.toString('base64'), tmpIn], io.signal);
      }
    }
    check();
    // The caller going away kills the command in the guest (the agent's kill request).
    const r = await agentExec(
      sock,
      ['sh', '-c', 'i=$1; o=$2; shift 2; "$@" < "$i" > "$o"', 'sh', tmpIn, tmpOut, ...argv],
      Math.max(1000, end - Date.now()),
      io.signal,
    ).catch((err: unknown) => {
      // Its wait was what was left of the time limit: past it, the limit is what ended it.
      throw Date.now() >= end ? new StreamTimeoutError(io.timeoutMs) : err;
    });
    if (io.stdout) {
      const size = Number((await step(sock, ['sh', '-c', 'wc -c < "$1"', 'sh', tmpOut], io.signal)).trim());
      for (let block = 0; block * CHUNK < size; block++) {
        check();
        const b64 = await step(sock, ['sh', '-c', 'dd if="$1" bs=49152 skip="$2" count=1 2>/dev/null | base64 -w 0', 'sh', tmpOut, String(block)], io.signal);
        const out = io.stdout;
        if (!out.write(Buffer.from(b64.trim(), 'base64'))) await new Promise((res) => out.once('drain', res).once('close', res));
      }
    }
    return { code: r.code, stderr: r.stderr };
  } finally {
    await agentExec(sock, ['rm', '-f', tmpIn, tmpOut], STEP_MS).catch(() => undefined);
  }
}
