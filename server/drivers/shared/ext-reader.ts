import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec';

export interface ExtEntry {
  ino: number;
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

export interface ExtStat {
  mtime: number;
  target?: string;
}

const DEBUGFS = fs.existsSync('/usr/sbin/debugfs') ? '/usr/sbin/debugfs' : 'debugfs';

/**
 * An ext2/3/4 filesystem read with debugfs in catastrophic mode (-c: read-only, bitmaps not
 * read), many commands per process: a tree of 10,000 files is a few runs, not 10,000.
 */
export class ExtReader {
  private readonly device: string;

  constructor(
    file: string,
    readonly offset: number,
    private readonly tmpDir: string,
  ) {
    this.device = offset ? `${file}?offset=${offset}` : file;
  }

  /** Each command's output lines (debugfs echoes "debugfs: CMD" before each). */
  private async batch(cmds: string[]): Promise<string[][]> {
    if (!cmds.length) return [];
    const f = path.join(this.tmpDir, `debugfs-${process.pid}-${Math.random().toString(36).slice(2)}.cmds`);
    fs.writeFileSync(f, `${cmds.join('\n')}\n`, { mode: 0o600 });
    try {
      // No pager per command (debugfs spawns one for stat and ls unless told): that alone is most of the time.
      const r = await run([DEBUGFS, '-c', '-f', f, this.device], {
        timeoutMs: 10 * 60_000,
        maxOutputBytes: 1024 * 2 ** 20,
        env: { DEBUGFS_PAGER: '__none__' },
      });
      if (r.code !== 0) throw new Error(`debugfs failed: ${r.stderr.trim().split('\n').pop()}`);
      const out: string[][] = [];
      for (const line of r.stdout.split('\n')) {
        if (line.startsWith('debugfs: ')) out.push([]);
        else if (out.length) out[out.length - 1].push(line);
      }
      if (out.length !== cmds.length) throw new Error(`the filesystem could not be read (${r.stderr.trim().split('\n').pop() ?? 'debugfs'})`);
      return out;
    } finally {
      fs.rmSync(f, { force: true });
    }
  }

  /** Where each inode is on the disk (bytes from the disk's start), from the superblock and group descriptors. */
  async inodeLocator(): Promise<(ino: number) => [number, number]> {
    const [out] = await this.batch(['stats']);
    const num = (re: RegExp) => Number(out.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined));
    const bs = num(/^Block size:\s+(\d+)/);
    const perGroup = num(/^Inodes per group:\s+(\d+)/);
    const size = num(/^Inode size:\s+(\d+)/);
    const tables = out.flatMap((l) => /inode table at (\d+)/.exec(l)?.[1] ?? []).map(Number);
    if (!bs || !perGroup || !size || !tables.length) throw new Error('the filesystem statistics could not be read');
    return (ino) => {
      const at = this.offset + tables[Math.floor((ino - 1) / perGroup)] * bs + ((ino - 1) % perGroup) * size;
      return [at, at + size];
    };
  }

  /** One directory's entries by name. */
  async list(ino: number): Promise<Map<string, ExtEntry>> {
    const [out] = await this.batch([`ls -p <${ino}>`]);
    const m = new Map<string, ExtEntry>();
    for (const line of out) {
      const e = parseLs(line);
      if (e) m.set(e.name, e.entry);
    }
    return m;
  }

  /** Every path (relative, no leading slash) below the root, level by level: one debugfs run per depth. */
  async walk(): Promise<Map<string, ExtEntry>> {
    const all = new Map<string, ExtEntry>();
    let level: { rel: string; ino: number }[] = [{ rel: '', ino: 2 }];
    while (level.length) {
      const outs = await this.batch(level.map((d) => `ls -p <${d.ino}>`));
      const next: { rel: string; ino: number }[] = [];
      level.forEach((d, i) => {
        for (const line of outs[i]) {
          const p = parseLs(line);
          if (!p) continue;
          const { name, entry: e } = p;
          const rel = d.rel ? `${d.rel}/${name}` : name;
          all.set(rel, e);
          if ((e.mode & 0o170000) === 0o040000) next.push({ rel, ino: e.ino });
        }
      });
      level = next;
    }
    return all;
  }

  /** mtimes (ms) and fast symlink targets, by inode. */
  async stat(inos: number[]): Promise<Map<number, ExtStat>> {
    const res = new Map<number, ExtStat>();
    const unique = [...new Set(inos)];
    for (let i = 0; i < unique.length; i += 20_000) {
      const part = unique.slice(i, i + 20_000);
      const outs = await this.batch(part.map((n) => `stat <${n}>`));
      part.forEach((n, j) => {
        const s: ExtStat = { mtime: 0 };
        for (const line of outs[j]) {
          const m = /^\s*mtime: 0x([0-9a-f]+)(?::([0-9a-f]+))?/.exec(line);
          if (m) {
            const extra = m[2] ? parseInt(m[2], 16) : 0;
            const secs = parseInt(m[1], 16) + (extra & 3) * 2 ** 32;
            s.mtime = secs * 1000 + Math.floor((extra >>> 2) / 1e6);
          }
          const l = /^Fast link dest: "(.*)"$/.exec(line);
          if (l) s.target = l[1];
        }
        res.set(n, s);
      });
    }
    return res;
  }

  /** One file's bytes into `out`. */
  async dump(ino: number, out: string): Promise<void> {
    await this.batch([`dump <${ino}> ${JSON.stringify(out)}`]);
    if (!fs.existsSync(out)) throw new Error('the file could not be read from the disk');
  }
}

/** `ls -p` lines: /INO/MODE/UID/GID/NAME/SIZE/ (a name cannot hold a slash); `.` and `..` dropped. */
function parseLs(line: string): { name: string; entry: ExtEntry } | null {
  const f = line.split('/');
  if (f.length < 7 || f[0] !== '') return null;
  const name = f.slice(5, f.length - 2).join('/');
  if (name === '.' || name === '..' || !name) return null;
  return { name, entry: { ino: Number(f[1]), mode: parseInt(f[2], 8), uid: Number(f[3]), gid: Number(f[4]), size: Number(f[f.length - 2] || 0) } };
}
