import path from 'node:path';
import type { DiffEntry, FileMeta } from '@/lib/contracts/diff';
import { exportDisk, extOffset } from '@/server/drivers/shared/disk-export';
import { ExtReader, type ExtEntry, type ExtStat } from '@/server/drivers/shared/ext-reader';
import { changedRanges, touches } from '@/server/drivers/shared/qcow2-changes';
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
  qcow2: string;
  reader: ExtReader;
  close: () => Promise<void>;
}

/** A qcow2 chain's ext filesystem, readable until close() (which unmounts the export). */
export async function openDisk(qcow2: string, tmpDir: string): Promise<OpenDisk> {
  const exp = await exportDisk(qcow2, tmpDir);
  try {
    return { qcow2, reader: new ExtReader(exp.file, extOffset(exp.file), tmpDir), close: exp.close };
  } catch (err) {
    await exp.close();
    throw new Error(`${path.basename(qcow2)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Two VM disks compared through their ext filesystems: both trees listed (inode, mode, owner,
 * size); no file content is read. mtimes are read only where they can differ: an inode both
 * sides list alike whose slot of the inode table lies in no cluster the layers above the
 * shared base wrote (qemu-img map) is the same inode on both, and is skipped.
 */
export async function diffDisks(a: OpenDisk, b: OpenDisk): Promise<{ entries: DiffEntry[]; walked: number; skipped: number }> {
  const [ta, tb, changed, locA, locB] = await Promise.all([
    a.reader.walk(),
    b.reader.walk(),
    changedRanges(a.qcow2, b.qcow2).catch(() => null),
    a.reader.inodeLocator(),
    b.reader.inodeLocator(),
  ]);
  const same = (x: ExtEntry, y: ExtEntry) => x.ino === y.ino && x.mode === y.mode && x.uid === y.uid && x.gid === y.gid && x.size === y.size;
  const untouched = (e: ExtEntry) => !!changed && !touches(changed, ...locA(e.ino)) && !touches(changed, ...locB(e.ino));
  const paths: string[] = [];
  let skipped = 0;
  for (const rel of new Set([...ta.keys(), ...tb.keys()])) {
    const ea = ta.get(rel);
    const eb = tb.get(rel);
    if (ea && eb && same(ea, eb) && untouched(ea)) skipped++;
    else paths.push(rel);
  }
  const needs = (t: Map<string, ExtEntry>) =>
    paths
      .flatMap((p) => t.get(p) ?? [])
      .filter((e) => typeOf(e.mode) !== 'dir')
      .map((e) => e.ino);
  const [sa, sb] = await Promise.all([a.reader.stat(needs(ta)), b.reader.stat(needs(tb))]);
  const entries: DiffEntry[] = [];
  for (const rel of paths) {
    const ea = ta.get(rel);
    const eb = tb.get(rel);
    const e = compare(`/${escapePath(rel)}`, ea ? metaOf(ea, sa.get(ea.ino)) : null, eb ? metaOf(eb, sb.get(eb.ino)) : null);
    if (e) entries.push(e);
  }
  return { entries, walked: ta.size + tb.size, skipped };
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
