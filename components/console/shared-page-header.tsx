import type { ReactNode } from 'react';

/**
 * The top of a page a share link opens (a console, a recording): Hangar, the machine, what the
 * link lets its opener do, and when it expires.
 */
export function SharedPageHeader({
  title,
  badge,
  label,
  expiresAt,
  children,
}: {
  title: ReactNode;
  badge?: ReactNode;
  /** The link's label, quoted in the expiry line. */
  label: string | null;
  expiresAt: number;
  /** What the link gives, before the expiry. */
  children: ReactNode;
}) {
  return (
    <header className="flex flex-wrap items-center gap-3">
      <span className="font-semibold">Hangar</span>
      <h1 className="text-base font-medium">{title}</h1>
      {badge}
      <span className="text-xs text-zinc-500 dark:text-zinc-400">
        {children} · link {label ? `"${label}" ` : ''}expires {new Date(expiresAt).toLocaleString()}
      </span>
    </header>
  );
}
