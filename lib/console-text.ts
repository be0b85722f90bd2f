/**
 * Pure helpers of the console's copy, paste and download: kept apart from xterm so they can
 * be tested without a browser.
 */

/** A paste this big asks first: several lines reach a shell as several commands. */
export const PASTE_CONFIRM_LINES = 5;
export const PASTE_CONFIRM_BYTES = 4096;

export interface PasteCheck {
  lines: number;
  bytes: number;
  /** Ask the user before sending it. */
  confirm: boolean;
  /** The first few lines, for the question. */
  preview: string;
}

export function checkPaste(text: string): PasteCheck {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n').length;
  const bytes = new TextEncoder().encode(text).length;
  const preview = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .slice(0, 6)
    .map((l) => (l.length > 120 ? `${l.slice(0, 120)}…` : l))
    .join('\n');
  return { lines, bytes, confirm: lines >= PASTE_CONFIRM_LINES || (lines > 1 && bytes > PASTE_CONFIRM_BYTES) || bytes > 4 * PASTE_CONFIRM_BYTES, preview };
}

/** Lines of a terminal buffer as a text file: trailing blanks and trailing empty lines dropped. */
export function scrollbackText(lines: Iterable<string>): string {
  const out = [...lines].map((l) => l.replace(/\s+$/, ''));
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Initials for a presence avatar: "ann" -> "AN", "link "ops"" -> "OP", "Bob Smith" -> "BS". */
export function initials(name: string): string {
  const words = name
    .replace(/^link\s+/, '')
    .replace(/["'“”]/g, '')
    .split(/[\s._@-]+/)
    .filter(Boolean);
  if (words.length >= 2) return (words[0][0] + words[1][0]).toUpperCase();
  return (words[0] ?? '?').slice(0, 2).toUpperCase();
}

/** A stable hue per name, so each person keeps their colour on every console. */
export function hueOf(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return h;
}

/**
 * A console log as plain text: escape sequences (colours, cursor moves, OSC titles) removed,
 * CR LF as LF, and a line redrawn with a bare CR keeps what was drawn last.
 */
/* eslint-disable no-control-regex -- escape sequences are what these patterns remove */
export function plainLog(raw: string): string {
  const noEsc = raw
    // OSC ... BEL or ST, then CSI sequences, then other two-byte escapes.
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[@-Z\\-_]/g, '')
    .replace(/\r\n/g, '\n');
  return (
    noEsc
      .split('\n')
      .map((line) => {
        const parts = line.split('\r');
        return parts.length > 1 ? (parts.filter(Boolean).pop() ?? '') : line;
      })
      .join('\n')
      // Other control characters but tab and newline.
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
  );
}
/* eslint-enable no-control-regex */
