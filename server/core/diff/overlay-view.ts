import fs from 'node:fs';
import path from 'node:path';
import type { FileMeta } from '@/lib/contracts/diff';
import { metaOf } from './meta';

export interface Found {
  meta: FileMeta;
  abs: string;
  dev: number;
  ino: number;
  /** A directory: the layers (indices, top first) whose copies of it merge into what the container sees. */
  layers: number[];
  /** The top layer it comes from. */
  layer: number;
}

/** An overlay whiteout: a character device 0:0 hides the name in every layer below. */
const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * One side's merged tree, as the kernel's overlayfs shows it, looked up path by path without
 * mounting anything: top layer first, a whiteout ends the lookup, a non-directory hides what is
 * below, an opaque directory (trusted.overlay.opaque=y) hides the directories below it.
 */
export class OverlayView {
  private readonly cache = new Map<string, Found | null>();

  /** `layers` bottom first; `opaque`: the opaque directories' absolute paths. */
  constructor(
    readonly layers: string[],
    private readonly opaque: Set<string>,
  ) {}

  lookup(rel: string): Found | null {
    const hit = this.cache.get(rel);
    if (hit !== undefined) return hit;
    const found = rel === '' ? this.root() : this.child(rel);
    this.cache.set(rel, found);
    return found;
  }

  private root(): Found | null {
    const all = this.layers.map((_, i) => this.layers.length - 1 - i);
    const top = all[0];
    if (top === undefined) return null;
    const st = fs.lstatSync(this.layers[top]);
    return { meta: metaOf(st, this.layers[top]), abs: this.layers[top], dev: st.dev, ino: st.ino, layers: all, layer: top };
  }

  private child(rel: string): Found | null {
    const parent = this.lookup(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    if (!parent || parent.meta.type !== 'dir') return null;
    let found: Found | null = null;
    for (const i of parent.layers) {
      const abs = path.join(this.layers[i], rel);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        continue;
      }
      if (isWhiteout(st)) break;
      if (!found) {
        found = { meta: metaOf(st, abs), abs, dev: st.dev, ino: st.ino, layers: st.isDirectory() ? [i] : [], layer: i };
        if (!st.isDirectory() || this.opaque.has(abs)) break;
        continue;
      }
      // Below a directory only directories merge; anything else is hidden from here down.
      if (!st.isDirectory()) break;
      found.layers.push(i);
      if (this.opaque.has(abs)) break;
    }
    return found;
  }

  /** The names in a merged directory (whiteouts and hidden ones left for lookup() to drop). */
  names(rel: string): string[] {
    const d = this.lookup(rel);
    if (!d || d.meta.type !== 'dir') return [];
    const names = new Set<string>();
    for (const i of d.layers) for (const n of readdirSafe(path.join(this.layers[i], rel))) names.add(n);
    return [...names];
  }

  isOpaqueIn(rel: string, layerIndices: Set<number>): boolean {
    const d = this.lookup(rel);
    return !!d && d.layers.some((i) => layerIndices.has(i) && this.opaque.has(path.join(this.layers[i], rel)));
  }
}

export function readdirSafe(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
