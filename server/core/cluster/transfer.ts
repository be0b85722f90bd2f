import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Cluster } from './cluster';

export interface SignedDownload {
  cluster: Cluster;
  /** The node asked (its URL as last seen: a node restarted since may listen elsewhere, and is asked once more there). */
  from: { id: string; name: string; url: string };
  /** Path and query of its node-signed internal route. */
  pathAndQuery: string;
  /** Written new (never over an existing file), mode 0600. */
  file: string;
  signal?: AbortSignal;
  /** Bytes per second to take at most (0: no limit). */
  rateBytes?: number;
  /** After each chunk: bytes so far, and the whole length when the answer said it (else 0). */
  onProgress?(got: number, total: number): void;
  /** The error a failure is thrown as (its words say what was being copied). */
  reason(why: string): Error;
}

/**
 * A file streamed from another node's node-signed internal route into `file`, whole or an error (a
 * refusal, a transfer cut short of the announced length). Returns its size and SHA-256, for the
 * caller to compare with what the sender said before anything uses it. Replicas of snapshots
 * (replicas.ts) and moves of machines (moves.ts) copy through it.
 */
export async function downloadSigned(d: SignedDownload): Promise<{ bytes: number; sha256: string }> {
  const ask = (url: string) => fetch(url.replace(/\/+$/, '') + d.pathAndQuery, { headers: d.cluster.sign('GET', d.pathAndQuery), signal: d.signal });
  let res: Response;
  try {
    res = await ask(d.from.url).catch(async (err: unknown) => {
      // A node restarted since the last heartbeat read may listen elsewhere now: asked once more at its current URL.
      await d.cluster.registry?.tick();
      const now = d.cluster.requireOnline(d.from.id);
      if (now.url === d.from.url) throw err;
      return ask(now.url);
    });
  } catch (err) {
    throw d.reason(`node ${d.from.name} did not answer (${causeOf(err)})`);
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => '');
    let msg = `HTTP ${res.status}`;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? msg;
    } catch {
      // Not the error envelope: the status says enough.
    }
    throw d.reason(msg);
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const fh = await fs.promises.open(d.file, 'wx', 0o600);
  const hash = createHash('sha256');
  let got = 0;
  const t0 = performance.now();
  try {
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw d.reason(`the transfer was cut after ${mib(got)} of ${mib(total)} MiB (${causeOf(err)})`);
      }
      if (chunk.done) break;
      await fh.write(chunk.value);
      hash.update(chunk.value);
      got += chunk.value.byteLength;
      d.onProgress?.(got, total);
      if (d.rateBytes) {
        const ahead = (got / d.rateBytes) * 1000 - (performance.now() - t0);
        if (ahead > 5) await new Promise((r) => setTimeout(r, ahead));
      }
    }
  } finally {
    await fh.close();
  }
  if (total && got !== total) throw d.reason(`the transfer was cut after ${mib(got)} of ${mib(total)} MiB`);
  return { bytes: got, sha256: hash.digest('hex') };
}

export const mib = (b: number) => (b / 2 ** 20).toFixed(1);
export const causeOf = (err: unknown) => (err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err));
