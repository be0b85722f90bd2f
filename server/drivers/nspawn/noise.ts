/**
 * nspawn's own complaint at exit when /run is not a tmpfs (it will not empty its propagation dir
 * on a disk filesystem): it is not the command's output, so a run's stderr drops that line.
 */
const NOISE = 'Attempted to remove disk file system under "/run/systemd/nspawn/propagate/';

/**
 * A stderr filter that drops NOISE lines and passes everything else through as it comes: only
 * text at the start of a line that could still become NOISE is held back (until the newline
 * tells), so prompts without a newline are not delayed.
 */
export function dropNspawnNoise(emit: (text: string) => void): { push(text: string): void; end(): void } {
  let held = '';
  let atLineStart = true;
  const drain = () => {
    while (held) {
      if (atLineStart && (held.startsWith(NOISE) || NOISE.startsWith(held))) {
        const nl = held.indexOf('\n');
        if (nl < 0) return;
        held = held.slice(nl + 1);
        continue;
      }
      const nl = held.indexOf('\n');
      const upTo = nl < 0 ? held.length : nl + 1;
      emit(held.slice(0, upTo));
      atLineStart = nl >= 0;
      held = held.slice(upTo);
    }
  };
  return {
    push(text) {
      held += text;
      drain();
    },
    end() {
      if (held && !held.startsWith(NOISE)) emit(held);
      held = '';
    },
  };
}
