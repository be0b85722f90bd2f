import { describe, expect, it } from 'vitest';
import { formatMarkerLabel, markerOfLine, markerText, parseMarkerLabel } from './recording-markers';

const SNP = 'snp_abcdefghij0123456789';
const OTHER = 'snp_zzzzzzzzzz9999999999';

describe('recording markers', () => {
  it('formats kind, text and snapshot id, and reads them back', () => {
    const label = formatMarkerLabel('checkpoint', 'before upgrade', SNP);
    expect(label).toBe(`checkpoint · before upgrade · ${SNP}`);
    expect(parseMarkerLabel(label)).toEqual({ kind: 'checkpoint', label: 'before upgrade', snapshotId: SNP });
  });

  it('keeps the last id: a snapshot label that looks like a marker cannot name another snapshot', () => {
    const label = formatMarkerLabel('checkpoint', `x · ${OTHER}`, SNP);
    expect(parseMarkerLabel(label)).toEqual({ kind: 'checkpoint', label: `x · ${OTHER}`, snapshotId: SNP });
  });

  it('drops an id that is not a snapshot id, and text made of control characters only', () => {
    expect(formatMarkerLabel('fork', 'web-fork-1', '../../etc')).toBe('fork · web-fork-1');
    expect(formatMarkerLabel('command', '\u001b\r\n')).toBe('command · -');
  });

  it('flattens line breaks and escapes, and cuts long text', () => {
    expect(markerText('ls\r\n-la\u001b[0m')).toBe('ls -la [0m');
    expect(markerText('x'.repeat(500))).toHaveLength(160);
  });

  it('command markers never carry a snapshot id', () => {
    expect(parseMarkerLabel(`command · echo ${SNP} · ${SNP}`)).toEqual({ kind: 'command', label: `echo ${SNP} · ${SNP}` });
  });

  it('a label Hangar did not write is a note', () => {
    expect(parseMarkerLabel('chapter 2')).toEqual({ kind: 'note', label: 'chapter 2' });
    expect(parseMarkerLabel(`upgrade · ${SNP}`)).toEqual({ kind: 'note', label: `upgrade · ${SNP}` });
  });

  it('reads marker events from cast lines and skips everything else', () => {
    expect(markerOfLine(JSON.stringify([1.5, 'm', `restore · c1 · ${SNP}`]))).toEqual({ t: 1.5, kind: 'restore', label: 'c1', snapshotId: SNP });
    expect(markerOfLine(JSON.stringify([1.5, 'o', '"m"']))).toBeNull();
    expect(markerOfLine('{"version":2,"m":1}')).toBeNull();
    expect(markerOfLine('[2.0, "m", "torn')).toBeNull();
  });
});
