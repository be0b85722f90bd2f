import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * What a backup target stores: objects under keys relative to the target's own prefix. An object
 * is there whole or not at all: a directory writes a temp file and renames it, S3 aborts a
 * multipart upload that fails.
 */
export interface ObjectStore {
  /** The object's size, or null when there is none under `key`. */
  head(key: string): Promise<number | null>;
  put(key: string, body: Readable, signal?: AbortSignal): Promise<void>;
  /** The object's bytes; throws ObjectMissingError when there is none. */
  get(key: string): Promise<Readable>;
  /** Every object whose key starts with `prefix`. */
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  remove(key: string): Promise<void>;
}

export class ObjectMissingError extends Error {
  constructor(readonly key: string) {
    super(`${key}: not on the target`);
  }
}

/** Keys are made by Hangar (`layers/SHA`, `backups/ID.json`); anything else is refused before it reaches a path. */
const KEY = /^(?:[a-z0-9][a-z0-9._-]*\/)*[a-z0-9][a-z0-9._-]*$/;
export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((s) => s === '.' || s === '..')) throw new Error(`bad object key "${key.slice(0, 80)}"`);
  return key;
}

const PART = '.part-';

/** A directory of the host (an admin's setting): objects are files under it. */
export class DirStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  async head(key: string): Promise<number | null> {
    try {
      const st = fs.statSync(this.file(key));
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  }

  async put(key: string, body: Readable, signal?: AbortSignal): Promise<void> {
    const file = this.file(key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}${PART}${randomBytes(6).toString('hex')}`;
    // Opened here, not by the stream: a body that fails at once would otherwise have the stream create the file only
    // after the removal below (seen once in a unit run: a .part file left).
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      await pipeline(body, fs.createWriteStream('', { fd }), { signal });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.file(key);
    if (!fs.existsSync(file)) throw new ObjectMissingError(key);
    return fs.createReadStream(file);
  }

  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    const walk = (dir: string, rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(dir, e.name), key);
        else if (e.isFile() && !e.name.includes(PART) && key.startsWith(prefix)) out.push({ key, size: fs.statSync(path.join(dir, e.name)).size });
      }
    };
    const top = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    walk(top ? path.join(this.root, ...checkKey(top).split('/')) : this.root, top);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async remove(key: string): Promise<void> {
    fs.rmSync(this.file(key), { force: true });
  }
}
