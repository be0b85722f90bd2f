/** The points of a line through `values` (nulls break it) in a `w` x `h` box, 0 at the bottom and `max` at the top. */
export function linePath(values: (number | null)[], w: number, h: number, max: number, slots = values.length): string {
  if (max <= 0 || slots < 2) return '';
  const step = w / (slots - 1);
  const offset = slots - values.length;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = (offset + i) * step;
    const y = h - (Math.max(0, Math.min(v, max)) / max) * h;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    // A point with no neighbour to join gets a dot (a zero-length stroke is drawn with round caps).
    const next = values[i + 1];
    if (!pen && (next === undefined || next === null || !Number.isFinite(next))) d += 'l0.01 0';
    pen = true;
  });
  return d;
}

/** A round number at or above `v` (1, 2, 5 x 10^n), so the scale does not jitter with every sample. */
export function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = v / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/**
 * The scale of a memory line: the machine's RAM or limit, or a round number above the peak when
 * the figure outgrows it (a VM's qemu holds its own code and TCG's cache besides the guest's RAM).
 */
export function memoryScale(limit: number, values: (number | null)[]): number {
  const peak = Math.max(0, ...values.filter((v): v is number => v !== null));
  return peak > limit ? niceCeil(peak) : limit;
}
