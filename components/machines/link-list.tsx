'use client';

import type { Share } from '@/lib/contracts/shares';
import { formatAge } from '@/lib/format';

const muted = 'text-xs text-zinc-500 dark:text-zinc-400';

/** "3 days", "5 h", "20 min": how long until a time ahead. */
const until = (ts: number) => {
  const h = Math.round((ts - Date.now()) / 3_600_000);
  return h >= 48 ? `${Math.round(h / 24)} days` : h >= 1 ? `${h} h` : `${Math.max(1, Math.round((ts - Date.now()) / 60_000))} min`;
};

/**
 * A machine's share links, one row each: label and what it opens, when it was last used, its
 * expiry (or how it ended), and Revoke while it is active.
 */
export function LinkList({
  label,
  links,
  detail,
  mono = false,
  usedVerb,
  onRevoke,
  className = '',
  rowPadding = 'py-2',
}: {
  /** The list's accessible name. */
  label: string;
  links: Share[];
  /** What the link opens, after its label. */
  detail: (s: Share) => string;
  mono?: boolean;
  /** "used" or "opened": said with the last use, or "not … yet". */
  usedVerb: string;
  onRevoke: (id: string) => void;
  className?: string;
  rowPadding?: string;
}) {
  return (
    <ul aria-label={label} className={`${className} divide-y divide-zinc-100 text-sm dark:divide-zinc-800`.trim()}>
      {links.map((s) => (
        <li key={s.id} data-share={s.id} data-state={s.state} className={`flex flex-wrap items-center gap-3 ${rowPadding}`}>
          <span className="min-w-0 flex-1 truncate">
            {s.label ?? 'link'} <span className={mono ? `font-mono ${muted}` : muted}>· {detail(s)}</span>
          </span>
          <span className={muted}>{s.lastUsedAt ? `${usedVerb} ${formatAge(s.lastUsedAt)}` : `not ${usedVerb} yet`}</span>
          <span className={muted}>{s.state === 'active' ? `expires in ${until(s.expiresAt)}` : s.state}</span>
          {s.state === 'active' && (
            <button
              type="button"
              onClick={() => onRevoke(s.id)}
              className="rounded px-2 py-1 text-xs text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40"
            >
              Revoke
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
