import type { ReactNode } from 'react';
import { Icon, type IconName } from '@/components/ui/icon';

/** What is missing and what to do next: never just "nothing here". */
export function EmptyState({ icon, title, children }: { icon: IconName; title: string; children: ReactNode }) {
  return (
    <section className="rounded-xl border border-dashed border-zinc-300 bg-white px-6 py-12 text-center dark:border-zinc-700 dark:bg-zinc-900/40">
      <div className="mx-auto mb-4 flex h-12 w-12 items-center justify-center rounded-full bg-sky-50 text-sky-700 dark:bg-sky-950/60 dark:text-sky-300">
        <Icon name={icon} className="h-6 w-6" />
      </div>
      <h2 className="text-base font-semibold">{title}</h2>
      <div className="mx-auto mt-2 max-w-lg space-y-3 text-sm text-zinc-600 dark:text-zinc-400">{children}</div>
    </section>
  );
}

export function Cmd({ children }: { children: ReactNode }) {
  return <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[0.8em] text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">{children}</code>;
}
