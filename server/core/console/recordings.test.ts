import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMarkerLabel } from '@/lib/recording-markers';
import type { ConsoleSource } from '@/server/drivers/types';
import { RecordingService } from './recordings';
import { ConsoleSession } from './session';

const SNP = 'snp_abcdefghij0123456789';
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-rec-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A recorder's file is complete once its stream has ended (the service then no longer lists it as active). */
const closed = async (svc: RecordingService, rec: { close(): void; file: string }) => {
  rec.close();
  // Listed once the file exists (the stream opens it a moment after), and no longer active once it ended.
  while (svc.list('mch_x').length === 0 || svc.list('mch_x').some((r) => r.active)) await new Promise((r) => setTimeout(r, 10));
  return fs.readFileSync(rec.file, 'utf8');
};

const source = (): ConsoleSource & { emit(d: string): void } => {
  let fn: (d: string) => void = () => undefined;
  return {
    write: () => undefined,
    resize: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    onData: (f) => (fn = f),
    onExit: () => undefined,
    close: () => undefined,
    emit: (d) => fn(d),
  };
};

describe('recording markers on disk', () => {
  it('writes marker events after the output before them, and reads them back in order', async () => {
    const svc = new RecordingService(tmp());
    const rec = svc.start('mch_x', 'serial', 'x (serial)', 80, 24);
    const s = new ConsoleSession('k', { kind: 'machine', machineId: 'mch_x', channel: 'serial' }, 'u', source(), { scrollbackChars: 1000 });
    s.record(rec);
    const src = (s as unknown as { source: ReturnType<typeof source> }).source;
    src.emit('prompt# ');
    // Not yet flushed (a setImmediate away): the marker must still come after it.
    s.mark(formatMarkerLabel('checkpoint', 'c1', SNP));
    s.mark(formatMarkerLabel('fork', 'c1 → 1 fork', SNP));
    const text = await closed(svc, rec);
    const events = text
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.map((e) => e[1])).toEqual(['o', 'm', 'm']);
    const id = path.basename(rec.file, '.cast');
    expect(await svc.markers('mch_x', id)).toEqual([
      { t: expect.any(Number), kind: 'checkpoint', label: 'c1', snapshotId: SNP },
      { t: expect.any(Number), kind: 'fork', label: 'c1 → 1 fork', snapshotId: SNP },
    ]);
    await expect(svc.markers('mch_x', '../etc')).rejects.toThrow(/not found/i);
  });

  it('an exited session marks nothing', () => {
    const marks: string[] = [];
    const s = new ConsoleSession('k', { kind: 'machine', machineId: 'mch_x', channel: 'serial' }, 'u', source(), { scrollbackChars: 1000 });
    s.record({ output: () => undefined, resize: () => undefined, close: () => undefined, marker: (l) => marks.push(l) });
    s.mark('checkpoint · a');
    s.exited = true;
    s.mark('checkpoint · b');
    expect(marks).toEqual(['checkpoint · a']);
  });
});
