import type { JobState } from '@/lib/contracts/jobs';

export function ProgressBar({ value, state, label }: { value: number; state: JobState; label: string }) {
  const color = state === 'failed' ? 'bg-red-500' : state === 'cancelled' ? 'bg-zinc-400' : state === 'succeeded' ? 'bg-emerald-500' : 'bg-sky-500';
  return (
    <div className="flex items-center gap-2">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        className="h-1.5 flex-1 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div className={`h-full rounded-full transition-[width] duration-300 ${color}`} style={{ width: `${value}%` }} />
      </div>
      <span className="w-9 text-right text-xs text-zinc-500 tabular-nums dark:text-zinc-400">{value}%</span>
    </div>
  );
}
