import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Recording } from '@/lib/contracts/recordings';
import { markerOfLine, type RecordingMarker } from '@/lib/recording-markers';
import { NotFoundError } from '../errors';
import { resolveInside } from '../paths';
import type { OutputRecorder } from './session';

/** A recording stops growing past this (a runaway `yes` must not fill the disk); the file says so at its end. */
const MAX_BYTES = 64 * 2 ** 20;
const ID = /^rec-[0-9]{13}-[a-z0-9-]{1,80}$/;

/**
 * One console session as an asciicast v2 file: a JSON header line, then one
 * `[seconds, "o", text]` line per output chunk and `[seconds, "r", "COLSxROWS"]` per resize.
 * Written through a stream, so a busy console costs one append per chunk.
 */
export class AsciicastRecorder implements OutputRecorder {
  private readonly out: fs.WriteStream;
  private readonly t0: number;
  private bytes = 0;
  private full = false;
  private closed = false;

  constructor(
    readonly file: string,
    header: { cols: number; rows: number; title: string },
    private readonly onClose: () => void = () => undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
    this.out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    this.out.on('error', () => this.close());
    this.line({
      version: 2,
      width: header.cols,
      height: header.rows,
      timestamp: Math.floor(Date.now() / 1000),
      title: header.title,
      env: { TERM: 'xterm-256color' },
    });
  }

  private line(v: unknown): void {
    if (this.closed || this.full) return;
    const s = `${JSON.stringify(v)}\n`;
    this.bytes += Buffer.byteLength(s);
    if (this.bytes > MAX_BYTES) {
      this.full = true;
      this.out.write(`${JSON.stringify([this.elapsed(), 'o', '\r\n[recording stopped: it reached its size limit]\r\n'])}\n`);
      return;
    }
    this.out.write(s);
  }

  private elapsed(): number {
    return Math.round(this.now() - this.t0) / 1000;
  }

  output(data: string): void {
    this.line([this.elapsed(), 'o', data]);
  }

  resize(cols: number, rows: number): void {
    this.line([this.elapsed(), 'r', `${cols}x${rows}`]);
  }

  /** A marker at this instant (see lib/recording-markers.ts for its label). */
  marker(label: string): void {
    this.line([this.elapsed(), 'm', label]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.end(() => this.onClose());
  }
}

/** The last event's time: read from the end of the file, not the whole of it. */
function durationOf(file: string, size: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const len = Math.min(size, 65536);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const ev = JSON.parse(lines[i]) as unknown;
        if (Array.isArray(ev) && typeof ev[0] === 'number') return ev[0];
      } catch {
        // A line cut by the 64 KiB window, or one being written: look at the one before.
      }
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** Recordings of console sessions: `<data>/recordings/<machine id>/<id>.cast`, kept for the retention the settings say. */
export class RecordingService {
  private readonly active = new Set<string>();
  private lastPrune = 0;

  constructor(private readonly root: string) {}

  private dirOf(machineId: string): string {
    return resolveInside(this.root, machineId);
  }

  /** A recorder for a session that starts now on this machine; `label` names the console (serial, ssh). */
  start(machineId: string, label: string, title: string, cols: number, rows: number): AsciicastRecorder {
    const dir = this.dirOf(machineId);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const id = `rec-${Date.now()}-${
      label
        .replace(/[^a-z0-9-]/gi, '')
        .toLowerCase()
        .slice(0, 40) || 'console'
    }`;
    const file = resolveInside(dir, `${id}.cast`);
    const key = `${machineId}/${id}`;
    this.active.add(key);
    return new AsciicastRecorder(file, { cols, rows, title }, () => this.active.delete(key));
  }

  list(machineId: string): Recording[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dirOf(machineId));
    } catch {
      return [];
    }
    const out: Recording[] = [];
    for (const name of names) {
      const id = name.replace(/\.cast$/, '');
      if (!name.endsWith('.cast') || !ID.test(id)) continue;
      const file = path.join(this.dirOf(machineId), name);
      try {
        const st = fs.statSync(file);
        out.push({
          id,
          machineId,
          console: id.replace(/^rec-[0-9]{13}-/, ''),
          startedAt: Number(id.slice(4, 17)),
          bytes: st.size,
          durationS: durationOf(file, st.size),
          active: this.active.has(`${machineId}/${id}`),
        });
      } catch {
        // Removed while listing.
      }
    }
    return out.sort((a, b) => b.startedAt - a.startedAt);
  }

  /** The file of one recording; a malformed or unknown id is "not found", never a path. */
  file(machineId: string, id: string): string {
    if (!ID.test(id)) throw new NotFoundError('Recording');
    const file = resolveInside(this.dirOf(machineId), `${id}.cast`);
    if (!fs.existsSync(file)) throw new NotFoundError('Recording');
    return file;
  }

  /** The marker events of one recording, in file order (the order asciinema-player numbers them). */
  async markers(machineId: string, id: string): Promise<RecordingMarker[]> {
    const lines = readline.createInterface({ input: fs.createReadStream(this.file(machineId, id), 'utf8'), crlfDelay: Infinity });
    const out: RecordingMarker[] = [];
    for await (const line of lines) {
      const m = markerOfLine(line);
      if (m) out.push(m);
    }
    return out;
  }

  delete(machineId: string, id: string): void {
    fs.rmSync(this.file(machineId, id), { force: true });
  }

  removeMachine(machineId: string): void {
    fs.rmSync(this.dirOf(machineId), { recursive: true, force: true });
  }

  /** Remove finished recordings older than the retention (0 days: keep them all). */
  prune(retentionDays: number, now = Date.now(), force = false): number {
    // Called by the console sweeper every 30 s: a look every 10 minutes is plenty.
    if (retentionDays <= 0 || (!force && now - this.lastPrune < 600_000)) return 0;
    this.lastPrune = now;
    let removed = 0;
    let machines: string[];
    try {
      machines = fs.readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const m of machines) {
      for (const r of this.list(m)) {
        if (!r.active && now - r.startedAt > retentionDays * 86_400_000) {
          this.delete(m, r.id);
          removed++;
        }
      }
    }
    return removed;
  }
}
