import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, chunkKey, downloadChunked, uploadChunked } from './chunks';
import { DirStore } from './object-store';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-chunks-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('chunked files (guest RAM)', () => {
  it('stores no zeros, sends again only the chunks that changed, and rebuilds the file sparse', async () => {
    const store = new DirStore(tmp());
    const file = path.join(tmp(), 'ram');
    // Two chunks of data, two of zeros, a short tail.
    const data = Buffer.concat([randomBytes(CHUNK_BYTES), Buffer.alloc(2 * CHUNK_BYTES), randomBytes(CHUNK_BYTES), randomBytes(1000)]);
    fs.writeFileSync(file, data);
    const present = new Map<string, number>();
    const first = await uploadChunked(store, file, sha(data), present, () => undefined);
    expect(first.chunks.map((c) => c.sha256 === null)).toEqual([false, true, true, false, false]);
    expect(first.sent).toBe(3);

    data[10] ^= 0xff;
    fs.writeFileSync(file, data);
    const second = await uploadChunked(store, file, sha(data), present, () => undefined);
    expect(second.sent).toBe(1);
    expect((await store.list('chunks/')).length).toBe(4);

    const out = path.join(tmp(), 'back');
    await downloadChunked(store, out, { sha256: sha(data), size: data.length, chunks: second.chunks }, () => undefined);
    expect(fs.readFileSync(out).equals(data)).toBe(true);
    expect(fs.statSync(out).blocks * 512).toBeLessThan(data.length - CHUNK_BYTES);

    await expect(uploadChunked(store, file, sha(Buffer.from('x')), present, () => undefined)).rejects.toThrow(/changed while/);
    // A damaged chunk on the target is refused by name.
    const damaged = path.join((store as unknown as { root: string }).root, ...chunkKey(second.chunks[0].sha256!).split('/'));
    fs.writeFileSync(damaged, Buffer.from('not gzip'));
    await expect(downloadChunked(store, out, { sha256: sha(data), size: data.length, chunks: second.chunks }, () => undefined)).rejects.toThrow(
      /chunks\/[0-9a-f]{64} is damaged/,
    );
  });

  it('restores a backup made with 4 MiB chunks (before chunks were 1 MiB) and refuses a chunk larger than that', async () => {
    const store = new DirStore(tmp());
    const big = randomBytes(4 * 2 ** 20);
    await store.put(chunkKey(sha(big)), Readable.from([gzipSync(big, { level: 1 })]));
    const out = path.join(tmp(), 'old');
    await downloadChunked(store, out, { sha256: sha(big), size: big.length, chunks: [{ sha256: sha(big), size: big.length, stored: 0 }] }, () => undefined);
    expect(fs.readFileSync(out).equals(big)).toBe(true);
    const tooBig = { sha256: sha(big), size: big.length + 1, chunks: [{ sha256: sha(big), size: big.length + 1, stored: 0 }] };
    await expect(downloadChunked(store, out, tooBig, () => undefined)).rejects.toThrow(/larger than chunks are/);
  });
});
