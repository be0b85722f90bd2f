/**
 * asciinema-player shows only the markers before a recording's last event, and a marker can be
 * that last event: a command is marked when its line ends, as the recording (still being
 * written) stops there. An empty output event a tenth of a second later keeps it on the scrubber.
 */
export function withTail(cast: string): string {
  const lines = cast.trimEnd().split('\n');
  if (lines.length < 2) return cast;
  try {
    const last: unknown = JSON.parse(lines[lines.length - 1]);
    if (!Array.isArray(last) || typeof last[0] !== 'number') return cast;
    return `${lines.join('\n')}\n${JSON.stringify([Math.round(last[0] * 1000 + 100) / 1000, 'o', ''])}\n`;
  } catch {
    return cast;
  }
}
