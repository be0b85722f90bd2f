import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffDisks, openDisk } from '@/server/core/diff/disk-diff';
import { diffLayers } from '@/server/core/diff/overlay-diff';
import { run } from '@/server/drivers/exec';
import { editQcow2 } from '@/server/integration/qcow2-edit';

const FILES = 10_000;
const CHANGED = 100;
const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv, { timeoutMs: 10 * 60_000, maxOutputBytes: 256 * 2 ** 20 });
  if (r.code !== 0 && !(argv[0] === 'diff' && r.code === 1)) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** FILES small files in 100 directories. */
function fill(dir: string): void {
  for (let d = 0; d < 100; d++) {
    fs.mkdirSync(path.join(dir, `srv/d${d}`), { recursive: true });
    for (let f = 0; f < FILES / 100; f++) fs.writeFileSync(path.join(dir, `srv/d${d}/f${f}.txt`), `file ${d}/${f}\n`.repeat(4));
  }
}

/** Where the i-th change lands: ten directories, ten changes each (as a package upgrade or a config edit would). */
const spot = (i: number) => `srv/d${i % 10}`;

/** The newer layer: 60 files rewritten, 20 new, 20 removed (whiteouts), as a container's checkpoint would freeze them. */
async function change(dir: string): Promise<void> {
  for (let i = 0; i < CHANGED; i++) {
    const d = path.join(dir, spot(i));
    fs.mkdirSync(d, { recursive: true });
    if (i < 60) fs.writeFileSync(path.join(d, `f${i}.txt`), `changed ${i}\n`);
    else if (i < 80) fs.writeFileSync(path.join(d, `new${i}.txt`), `new ${i}\n`);
    else await ok(['mknod', path.join(d, `f${i}.txt`), 'c', '0', '0']);
  }
}

async function timed<T>(f: () => Promise<T>): Promise<{ s: number; r: T }> {
  const t0 = performance.now();
  const r = await f();
  return { s: (performance.now() - t0) / 1000, r };
}

/**
 * Snapshot diff of two container snapshots that differ in 100 files out of 10,000: Hangar's diff
 * (the layers both share not walked), the same code walking every layer of both (the full walk),
 * and GNU diff -rq over read-only overlay mounts of both; then the same change on a VM disk (ext4
 * in a qcow2 chain, read through qemu-storage-daemon and debugfs).
 */
export async function run_(): Promise<Record<string, unknown>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-diff-'));
  try {
    const root = path.join(tmp, 'rootfs');
    const l1 = path.join(tmp, 'layer1');
    const l2 = path.join(tmp, 'layer2');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/motd'), 'image\n');
    fs.mkdirSync(l1);
    fill(l1);
    fs.mkdirSync(l2);
    await change(l2);
    const a = [root, l1];
    const b = [root, l1, l2];
    const cold = await timed(() => diffLayers(a, b, new Set()));
    const fast: number[] = [];
    const full: number[] = [];
    let fullCount = 0;
    for (let i = 0; i < RUNS; i++) {
      fast.push((await timed(() => diffLayers(a, b, new Set()))).s);
      const f = await timed(() => diffLayers(a, b, new Set(), { fullWalk: true }));
      full.push(f.s);
      fullCount = f.r.entries.length;
    }
    if (fullCount !== cold.r.entries.length) throw new Error(`the full walk found ${fullCount} changes, the diff ${cold.r.entries.length}`);
    // GNU diff over the merged trees (read-only overlay mounts, as the kernel shows them).
    const mnt = [path.join(tmp, 'ma'), path.join(tmp, 'mb')];
    for (const [i, stack] of [a, b].entries()) {
      fs.mkdirSync(mnt[i]);
      await ok(['mount', '-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${[...stack].reverse().join(':')}`, mnt[i]]);
    }
    let gnu: number;
    try {
      gnu = (await timed(() => ok(['diff', '-rq', mnt[0], mnt[1]]))).s;
    } finally {
      for (const m of mnt) await run(['umount', m]);
    }
    const vm = await vmDisk(tmp, l1);
    return {
      diff_10k_files_s: round(median(fast)),
      diff_10k_files_cold_s: round(cold.s),
      diff_full_walk_s: round(median(full)),
      diff_speedup: round(median(full) / median(fast), 1),
      diff_r_s: round(gnu),
      diff_vs_diff_r: round(gnu / median(fast), 1),
      changes_found: cold.r.entries.length,
      ...vm,
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The same 10,000 files on ext4 in a qcow2, an overlay with the 100 changes, diffed through the disk reader. */
async function vmDisk(tmp: string, tree: string): Promise<Record<string, number>> {
  const raw = path.join(tmp, 'disk.raw');
  await ok(['truncate', '-s', '256M', raw]);
  await ok(['/usr/sbin/mkfs.ext4', '-q', '-d', tree, raw]);
  const base = path.join(tmp, 'base.qcow2');
  await ok(['qemu-img', 'convert', '-O', 'qcow2', raw, base]);
  const lines: string[] = [];
  for (let i = 0; i < CHANGED; i++) {
    const f = path.join(tmp, `c${i}`);
    fs.writeFileSync(f, `changed ${i}\n`);
    if (i < 60) lines.push(`rm /${spot(i)}/f${i}.txt`, `write ${f} /${spot(i)}/f${i}.txt`);
    else if (i < 80) lines.push(`write ${f} /${spot(i)}/new${i}.txt`);
    else lines.push(`rm /${spot(i)}/f${i}.txt`);
  }
  const top = path.join(tmp, 'top.qcow2');
  await ok(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
  await editQcow2(top, lines, tmp);
  const times: number[] = [];
  let found = 0;
  let skipped = 0;
  for (let i = 0; i < 3; i++) {
    const t = await timed(async () => {
      const da = await openDisk(base, tmp);
      const db = await openDisk(top, tmp);
      try {
        return await diffDisks(da, db);
      } finally {
        await da.close();
        await db.close();
      }
    });
    times.push(t.s);
    found = t.r.entries.length;
    skipped = t.r.skipped;
  }
  return { diff_vm_10k_files_s: round(median(times)), vm_changes_found: found, vm_inodes_not_read: skipped };
}

export { run_ as run };
