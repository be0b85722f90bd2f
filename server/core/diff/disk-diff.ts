import path from 'node:path';
import type { DiffEntry, FileMeta } from '@/lib/contracts/diff';
import { exportDisk, extOffset } from '@/server/drivers/shared/disk-export';
import { ExtReader, type ExtEntry, type ExtStat } from '@/server/drivers/shared/ext-reader';
import { compare, escapePath } from './meta';

const typeOf = (mode: number): FileMeta['type'] => {
  const t = mode & 0o170000;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : 'other';
};

const metaOf = (e: ExtEntry, s: ExtStat | undefined): FileMeta => {
  const type = typeOf(e.mode);
  return {
    type,
    size: type === 'dir' ? 0 : e.size,
    mode: e.mode & 0o7777,
    uid: e.uid,
    gid: e.gid,
    mtime: s?.mtime ?? 0,
    ...(type === 'symlink' ? { target: escapePath(s?.target ?? '') } : {}),
  };
};

export interface OpenDisk {
  reader: ExtReader;
  close: () => Promise<void>;
}

/** A qcow2 chain's ext filesystem, readable until close() (which unmounts the export). */
export async function openDisk(qcow2: string, tmpDir: string): Promise<OpenDisk> {
  const exp = await exportDisk(qcow2, tmpDir);
  try {
    return { reader: new ExtReader(exp.file, extOffset(exp.file), tmpDir), close: exp.close };
  } catch (err) {
    await exp.close();
    throw new Error(`${path.basename(qcow2)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Two VM disks compared through their ext filesystems: both trees listed (inode, mode, owner,
 * size), then mtimes read only for what is not a directory; no file content is read.
 */
export async function diffDisks(a: OpenDisk, b: OpenDisk): Promise<{ entries: DiffEntry[]; walked: number }> {
  const [ta, tb] = await Promise.all([a.reader.walk(), b.reader.walk()]);
  const needs = (t: Map<string, ExtEntry>) => [...t.values()].filter((e) => typeOf(e.mode) !== 'dir').map((e) => e.ino);
  const [sa, sb] = await Promise.all([a.reader.stat(needs(ta)), b.reader.stat(needs(tb))]);
  const entries: DiffEntry[] = [];
  for (const rel of new Set([...ta.keys(), ...tb.keys()])) {
    const ea = ta.get(rel);
    const eb = tb.get(rel);
    const e = compare(`/${escapePath(rel)}`, ea ? metaOf(ea, sa.get(ea.ino)) : null, eb ? metaOf(eb, sb.get(eb.ino)) : null);
    if (e) entries.push(e);
  }
  return { entries, walked: ta.size + tb.size };
}

/** One path's inode on a disk (null: not there). */
export async function inodeOf(d: OpenDisk, rel: string): Promise<ExtEntry | null> {
  const parts = rel.split('/').filter(Boolean);
  let ino = 2;
  let entry: ExtEntry | null = null;
  for (const name of parts) {
    const tree = await d.reader.list(ino);
    entry = tree.get(name) ?? null;
    if (!entry) return null;
    ino = entry.ino;
  }
  return entry;
}
