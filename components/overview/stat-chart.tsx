import { memo } from 'react';
import { linePath, niceCeil } from '@/lib/chart';

export interface ChartSeries {
  label: string;
  /** A text colour class: the line is drawn in currentColor. */
  color: string;
  values: (number | null)[];
}

const W = 320;
const H = 96;

/**
 * A live line chart of the last minutes (one slot per sample): the scale is `max` when the figure
 * has a ceiling (100 % of CPU, the RAM size), else the largest value shown, rounded up. The
 * current value of each line is written out in the legend and in the chart's label.
 */
export const StatChart = memo(function StatChart({
  title,
  series,
  format,
  max,
  slots,
  since,
  note,
}: {
  title: string;
  series: ChartSeries[];
  format: (v: number) => string;
  max?: number;
  slots: number;
  since: string;
  note?: string;
}) {
  const peak = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const top = max ?? niceCeil(peak);
  const current = series.map((s) => ({ ...s, now: [...s.values].reverse().find((v): v is number => v !== null) ?? null }));
  const label = `${title}: ${current.map((s) => `${s.label} ${s.now === null ? 'unknown' : format(s.now)}`).join(', ')}`;
  return (
    <figure className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/40">
      <figcaption className="mb-2 flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
        <span className="text-sm font-semibold">{title}</span>
        <span className="flex flex-wrap gap-x-3 text-xs text-zinc-600 dark:text-zinc-300">
          {current.map((s) => (
            <span key={s.label} className="inline-flex items-center gap-1.5">
              <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full bg-current ${s.color}`} />
              {s.label} <span className="font-medium tabular-nums text-zinc-900 dark:text-zinc-100">{s.now === null ? '–' : format(s.now)}</span>
            </span>
          ))}
        </span>
      </figcaption>
      <div className="relative">
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="h-28 w-full" role="img" aria-label={label}>
          {[0, 0.5, 1].map((f) => (
            <line
              key={f}
              x1={0}
              x2={W}
              y1={f * (H - 1) + 0.5}
              y2={f * (H - 1) + 0.5}
              className="stroke-zinc-200 dark:stroke-zinc-800"
              strokeWidth={1}
              vectorEffect="non-scaling-stroke"
            />
          ))}
          {current.map((s) => (
            <path
              key={s.label}
              d={linePath(s.values.slice(-slots), W, H - 2, top, slots)}
              transform="translate(0 1)"
              fill="none"
              stroke="currentColor"
              strokeWidth={1.75}
              vectorEffect="non-scaling-stroke"
              strokeLinejoin="round"
              strokeLinecap="round"
              className={s.color}
            />
          ))}
        </svg>
        <span
          className={`pointer-events-none absolute top-0 right-0 rounded bg-white/80 px-1 text-[10px] text-zinc-600 tabular-nums
            dark:bg-zinc-900/80 dark:text-zinc-300`}
          aria-hidden="true"
        >
          {top > 0 ? format(top) : ''}
        </span>
      </div>
      <div className="mt-1 flex justify-between text-[10px] text-zinc-600 dark:text-zinc-400" aria-hidden="true">
        <span>{since}</span>
        <span>now</span>
      </div>
      {note && <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">{note}</p>}
    </figure>
  );
});
