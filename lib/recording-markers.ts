/**
 * Markers in console recordings (asciicast v2 `[t, "m", label]` events). The label is what
 * asciinema-player shows on its scrubber, and also carries what the server needs: the kind
 * first, the snapshot id last, e.g. `checkpoint · before upgrade · snp_abc…`. Only the server
 * writes marker events (console output is "o"), and the kind and the id are always its own,
 * so a snapshot label that looks like a marker cannot pass for another snapshot.
 */
export const MARKER_KINDS = ['checkpoint', 'restore', 'fork', 'command'] as const;
export type MarkerKind = (typeof MARKER_KINDS)[number] | 'note';

export interface RecordingMarker {
  /** Seconds from the recording's start (as in the file, before any idle-time compression). */
  t: number;
  kind: MarkerKind;
  /** The human part: a snapshot's label, a fork's name, a command line. */
  label: string;
  /** The snapshot a checkpoint/restore/fork marker refers to. */
  snapshotId?: string;
}

const SEP = ' · ';
const SNAPSHOT_ID = /^snp_[a-z0-9]{20}$/;
const MAX_TEXT = 160;

/** One line of printable text: control characters and line breaks become spaces, long text is cut. */
export function markerText(text: string): string {
  const flat = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}

/** The label written into the recording. */
export function formatMarkerLabel(kind: Exclude<MarkerKind, 'note'>, text: string, snapshotId?: string): string {
  const parts: string[] = [kind, markerText(text) || '-'];
  if (snapshotId && SNAPSHOT_ID.test(snapshotId)) parts.push(snapshotId);
  return parts.join(SEP);
}

/** A label read back; one Hangar did not write (an imported cast's marker) is a plain note. */
export function parseMarkerLabel(raw: string): Omit<RecordingMarker, 't'> {
  const first = raw.indexOf(SEP);
  const kind = first > 0 ? raw.slice(0, first) : '';
  if (!(MARKER_KINDS as readonly string[]).includes(kind)) return { kind: 'note', label: markerText(raw) };
  let rest = raw.slice(first + SEP.length);
  let snapshotId: string | undefined;
  const last = rest.lastIndexOf(SEP);
  if (kind !== 'command' && last >= 0 && SNAPSHOT_ID.test(rest.slice(last + SEP.length))) {
    snapshotId = rest.slice(last + SEP.length);
    rest = rest.slice(0, last);
  }
  return { kind: kind as MarkerKind, label: rest, ...(snapshotId ? { snapshotId } : {}) };
}

/** The marker of one asciicast event line, or null for anything else (output, resize, the header, a torn line). */
export function markerOfLine(line: string): RecordingMarker | null {
  if (!line.includes('"m"')) return null;
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(ev) || ev.length < 3 || typeof ev[0] !== 'number' || ev[1] !== 'm' || typeof ev[2] !== 'string') return null;
  return { t: ev[0], ...parseMarkerLabel(ev[2]) };
}
