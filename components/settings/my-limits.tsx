'use client';

import { useQuery } from '@tanstack/react-query';
import { limitRows } from '@/lib/limits-format';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Section } from '@/components/ui/section';

/** Your account: what you may hold at once, and what you hold now (your role's limits or your own). */
export function MyLimits() {
  const mine = useQuery(queries(api).myLimits()).data;
  if (!mine) return null;
  return (
    <Section title="Your limits" description={`What you may hold at once (a ${mine.role}'s limits, or your own set by an admin), and what you hold now.`}>
      <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4" aria-label="Your limits">
        {limitRows(mine.limits, mine.usage).map((r) => (
          <div key={r.key} data-limit={r.key}>
            <dt className="text-xs text-zinc-500 dark:text-zinc-400">{r.name}</dt>
            <dd className={r.full ? 'font-medium text-amber-700 dark:text-amber-400' : ''}>{r.text}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}
