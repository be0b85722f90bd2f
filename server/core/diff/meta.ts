import fs from 'node:fs';
import type { DiffEntry, FileMeta } from '@/lib/contracts/diff';

/** A file as lstat shows it (directory sizes differ per layer and filesystem: not compared, shown as 0). */
export function metaOf(st: fs.Stats, abs: string): FileMeta {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return {
    type,
    size: type === 'file' || type === 'symlink' ? st.size : 0,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs),
    ...(type === 'symlink' ? { target: safeReadlink(abs) } : {}),
  };
}

function safeReadlink(abs: string): string {
  try {
    return escapePath(fs.readlinkSync(abs));
  } catch {
    return '';
  }
}

/**
 * What differs between two sides of one path. A directory's mtime and size change with every
 * entry added or removed below it: those entries tell the story, so they are not listed again.
 */
export function compare(path: string, before: FileMeta | null, after: FileMeta | null, mtimeSlackMs = 0): DiffEntry | null {
  if (!before && !after) return null;
  if (!before) return { path, change: 'added', fields: [], before: null, after };
  if (!after) return { path, change: 'removed', fields: [], before, after: null };
  const fields: DiffEntry['fields'] = [];
  if (before.type !== after.type) fields.push('type');
  if (before.type !== 'dir' && before.size !== after.size) fields.push('size');
  if (before.mode !== after.mode) fields.push('mode');
  if (before.uid !== after.uid || before.gid !== after.gid) fields.push('owner');
  if (before.type !== 'dir' && after.type !== 'dir' && Math.abs(before.mtime - after.mtime) > mtimeSlackMs) fields.push('mtime');
  if ((before.target ?? '') !== (after.target ?? '')) fields.push('target');
  return fields.length ? { path, change: 'changed', fields, before, after } : null;
}

/** Control characters (a newline in a name) shown as \xNN, so one path stays one line. */
export function escapePath(p: string): string {
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  return p.replace(/[\u0000-\u001f\u007f\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Entries sorted by path, counted, cut at `limit`. */
export function finish(entries: DiffEntry[], limit: number) {
  entries.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const e of entries) counts[e.change]++;
  return { counts, entries: entries.slice(0, limit), truncated: entries.length > limit };
}
