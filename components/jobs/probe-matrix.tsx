'use client';

import { probeMatrixSchema } from '@/lib/contracts/probes';

/**
 * A probe over several images (postroj's selftest) as the table `hangar probe` prints: a row per
 * image, a cell per check, ok or fail with what was seen. Nothing for a job whose result is no matrix.
 */
export function ProbeMatrixTable({ result }: { result: unknown }) {
  const parsed = probeMatrixSchema.safeParse(result);
  if (!parsed.success) return null;
  const m = parsed.data;
  const passed = m.rows.filter((r) => r.ok).length;
  return (
    <div className="mt-2 overflow-x-auto" data-testid="probe-matrix">
      <p className={`text-xs font-medium ${m.ok ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}`}>
        {m.ok ? 'Passed' : 'Failed'} on {passed} of {m.rows.length} image{m.rows.length === 1 ? '' : 's'} in {m.durationS.toFixed(1)} s
      </p>
      <table className="mt-1 w-full text-left text-xs" aria-label="Probe matrix">
        <thead className="text-zinc-500 dark:text-zinc-400">
          <tr>
            <th scope="col" className="py-1 pr-3 font-normal">
              Image
            </th>
            {m.checks.map((c) => (
              <th key={c} scope="col" className="py-1 pr-3 font-normal">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {m.rows.map((r) => (
            <tr key={r.image} data-testid="probe-matrix-row" data-image={r.image} data-ok={r.ok}>
              <th scope="row" className="py-1.5 pr-3 font-mono font-normal whitespace-nowrap">
                {r.image}
              </th>
              {m.checks.map((c) => {
                const cell = r.cells.find((x) => x.check === c);
                if (!cell)
                  return (
                    <td key={c} className="py-1.5 pr-3 text-zinc-400">
                      -
                    </td>
                  );
                return (
                  <td key={c} className="py-1.5 pr-3" data-ok={cell.ok}>
                    <span className={cell.ok ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}>{cell.ok ? '✓ ok' : '✗ fail'}</span>
                    {cell.detail && <span className="text-zinc-600 dark:text-zinc-400">: {cell.detail}</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
