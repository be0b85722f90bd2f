import type { ProbeMatrix, ProbeReport } from '@/lib/contracts/probes';

type Row = ProbeMatrix['rows'][number];

/** The checks of a probe, as the matrix names them: each package, then the unit and the URL when asked. */
export function probeChecks(packages: string[], unit: string | undefined, url: string | undefined): string[] {
  return [...packages.map((p) => `package ${p}`), ...(unit ? [`unit ${unit}`] : []), ...(url ? [`network ${url}`] : [])];
}

/** An image's row from its report: each check passed or not, with what was seen (a version, a state, a status) or why not. */
export function rowOf(image: string, checks: string[], r: ProbeReport): Row {
  const cells = checks.map((check) => {
    const [kind, ...rest] = check.split(' ');
    const what = rest.join(' ');
    if (kind === 'package') {
      const p = r.packages.find((x) => x.name === what);
      return { check, ok: !!p?.version, detail: p?.version ?? r.error ?? 'not installed' };
    }
    if (kind === 'unit') return { check, ok: !!r.unit?.ok, detail: r.unit?.state ?? 'not checked' };
    return { check, ok: !!r.network?.ok, detail: r.network ? String(r.network.status ?? r.network.error) : 'not checked' };
  });
  return { image, ok: r.ok, cells, report: r };
}

/** The row of an image the probe could not run on (no such image, the container did not start): every check failed, with why. */
export const failedRow = (image: string, checks: string[], reason: string): Row => ({
  image,
  ok: false,
  cells: checks.map((check) => ({ check, ok: false, detail: reason })),
  report: null,
});

/** The matrix as text: a row per image, a column per check, `ok` or `fail: why`. */
export function formatMatrix(m: ProbeMatrix, width = 40): string {
  const cell = (c: { ok: boolean; detail: string }) => (c.ok ? 'ok' : `fail: ${c.detail}`).slice(0, width);
  const table = [['IMAGE', ...m.checks], ...m.rows.map((r) => [r.image, ...r.cells.map(cell)])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
