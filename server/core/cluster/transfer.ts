import fs from 'node:fs';
import type { Cluster } from './cluster';

/** Where a file comes from: another node, by its signed internal route. */
export interface TransferFrom {
  id: string;
  name: string;
  url: string;
}

export interface TransferOptions {
  cluster: Cluster;
  from: TransferFrom;
  /** The internal route (path and query, under /api), signed as a node's GET. */
  pathAndQuery: string;
  /** Written with O_EXCL: the caller's scratch file. */
  file: string;
  signal: AbortSignal;
  /** Bytes per second the transfer may take (0: no limit). */
  rateBytes: number;
  /** Progress 0-100 of the bytes (when their number is known ahead). */
  progress(pct: number, message: string): void;
  log(line: string): void;
  /** The error a failure becomes (its reason added by the caller: "Copying X from node a failed: ..."). */
  reason(why: string): Error;
}

/**
 * A file another node streams from its node-signed internal route, into `file`, whole or an error:
 * refused (the owner's error message), not answered, or cut (fewer bytes than its Content-Length
 * said, or the connection dropped). Snapshot replicas and image copies both come this way. Returns
 * its size. The caller checks the contents (checksums) and owns the file's removal.
 */
export async function fetchFromNode(o: TransferOptions): Promise<number> {
  const { cluster, from, pathAndQuery, reason } = o;
  const ask = (url: string) => fetch(url.replace(/\/+$/, '') + pathAndQuery, { headers: cluster.sign('GET', pathAndQuery), signal: o.signal });
  let res: Response;
  try {
    res = await ask(from.url).catch(async (err: unknown) => {
      // A node restarted since the last heartbeat read may listen elsewhere now: asked once more at its current URL.
      await cluster.registry?.tick();
      const now = cluster.requireOnline(from.id);
      if (now.url === from.url) throw err;
      return ask(now.url);
    });
  } catch (err) {
    throw reason(`node ${from.name} did not answer (${causeOf(err)})`);
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => '');
    let msg = `HTTP ${res.status}`;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? msg;
    } catch {
      // Not the error envelope: the status says enough.
    }
    throw reason(msg);
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const fh = await fs.promises.open(o.file, 'wx', 0o600);
  let got = 0;
  let shown = -1;
  const t0 = performance.now();
  try {
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw reason(`the transfer was cut after ${mib(got)} of ${mib(total)} MiB (${causeOf(err)})`);
      }
      if (chunk.done) break;
      await fh.write(chunk.value);
      got += chunk.value.byteLength;
      if (total) {
        const pct = Math.floor((got / total) * 100);
        o.progress(pct, `Copying from node ${from.name}: ${pct}%`);
        if (Math.floor(pct / 10) > shown) {
          shown = Math.floor(pct / 10);
          o.log(`copy from node ${from.name}: ${pct}% (${mib(got)} of ${mib(total)} MiB)`);
        }
      }
      if (o.rateBytes) {
        const ahead = (got / o.rateBytes) * 1000 - (performance.now() - t0);
        if (ahead > 5) await new Promise((r) => setTimeout(r, ahead));
      }
    }
  } finally {
    await fh.close();
  }
  if (total && got !== total) throw reason(`the transfer was cut after ${mib(got)} of ${mib(total)} MiB`);
  return got;
}

export const mib = (b: number) => (b / 2 ** 20).toFixed(1);
/** A budget in GiB from the environment, in bytes: a number 0 or over, else `fallbackGib`. */
export const gibBudget = (value: string | undefined, fallbackGib: number): number => {
  const gib = value?.trim() ? Number(value) : NaN;
  return (Number.isFinite(gib) && gib >= 0 ? gib : fallbackGib) * 2 ** 30;
};
export const causeOf = (err: unknown) => (err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err));

/**
 * After a delete on the holder: each other node with a copy is asked to remove it now (POST to its
 * node-signed `sweepPath`, awaited). One that cannot be reached removes it at its own next sweep
 * (at its start and every minute), so nothing waits on it.
 */
export async function askToSweep(cluster: Cluster, nodeIds: Iterable<string>, sweepPath: string, what: string): Promise<void> {
  await Promise.all(
    [...nodeIds].map(async (nodeId) => {
      try {
        const n = cluster.requireOnline(nodeId);
        const res = await fetch(n.url.replace(/\/+$/, '') + sweepPath, {
          method: 'POST',
          headers: cluster.sign('POST', sweepPath),
          signal: AbortSignal.timeout(60_000),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        console.error(`node ${nodeId} will remove its ${what} at its next sweep (${causeOf(err)})`);
      }
    }),
  );
}

/** A node's sweep of its copies, now and every `ms` after (errors logged, never thrown); the timer does not keep the process up. */
export function sweepEvery(ms: number, what: string, sweep: () => Promise<unknown>): NodeJS.Timeout {
  const tick = () => void sweep().catch((err: Error) => console.error(`${what} failed:`, err.message));
  tick();
  const timer = setInterval(tick, ms);
  timer.unref();
  return timer;
}
