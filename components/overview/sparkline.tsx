import { memo } from 'react';
import { linePath } from '@/lib/chart';

/**
 * A tiny trend line for a list row: the last minute of one figure. `label` says the current
 * value in words for screen readers (the line itself is decoration).
 */
export const Sparkline = memo(function Sparkline({
  values,
  max,
  label,
  className = 'text-sky-500',
  slots = 30,
  stretch = false,
}: {
  values: (number | null)[];
  max: number;
  label: string;
  className?: string;
  slots?: number;
  stretch?: boolean;
}) {
  const w = 64;
  const h = 18;
  const d = linePath(values.slice(-slots), w, h - 1, max, slots);
  return (
    <svg
      {...(stretch ? { preserveAspectRatio: 'none' } : { width: w, height: h })}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={label}
      className={`shrink-0 ${className}`}
    >
      <line x1={0} y1={h - 0.5} x2={w} y2={h - 0.5} className="stroke-zinc-200 dark:stroke-zinc-700" strokeWidth={1} vectorEffect="non-scaling-stroke" />
      {d && <path d={d} fill="none" stroke="currentColor" strokeWidth={1.5} strokeLinejoin="round" strokeLinecap="round" vectorEffect="non-scaling-stroke" />}
    </svg>
  );
});
