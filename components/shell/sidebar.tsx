'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { pagesFor } from '@/lib/shortcuts';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { Icon, type IconName } from '@/components/ui/icon';
import { ThemeToggle } from '@/components/shell/theme-toggle';
import { openPalette } from '@/components/shell/global-keys';

const icons: Record<string, IconName> = {
  '/': 'overview',
  '/machines': 'machines',
  '/workspace': 'console',
  '/snapshots': 'snapshots',
  '/steps': 'steps',
  '/images': 'images',
  '/jobs': 'jobs',
  '/nodes': 'nodes',
  '/settings': 'settings',
  '/audit': 'audit',
  '/console': 'console',
};

export function Sidebar() {
  const pathname = usePathname();
  const router = useRouter();
  const qc = useQueryClient();
  const me = useQuery(queries(api).me()).data;
  const items = pagesFor(me?.role);

  async function logout() {
    await api.auth.logout().catch(() => undefined);
    qc.clear();
    router.replace('/login');
  }

  return (
    <aside
      className={`flex shrink-0 flex-row flex-wrap items-center border-b md:flex-col md:flex-nowrap md:items-stretch
      border-zinc-200 bg-white md:sticky md:top-0 md:h-screen md:w-56 md:border-r md:border-b-0 dark:border-zinc-800
      dark:bg-zinc-900/50`}
    >
      <div className="flex items-center gap-2 px-4 py-4">
        <img src="/favicon.svg" alt="" width={24} height={24} />
        <span className="text-lg font-semibold tracking-tight">Hangar</span>
      </div>
      <button
        type="button"
        onClick={openPalette}
        className={`mx-2 mb-2 hidden items-center gap-2 rounded-md border border-zinc-200 px-3 py-1.5 text-left text-sm
          text-zinc-600 hover:bg-zinc-50 md:flex dark:border-zinc-700 dark:text-zinc-400 dark:hover:bg-zinc-800`}
        aria-keyshortcuts="Control+K Meta+K"
      >
        <Icon name="search" />
        <span className="flex-1">Search…</span>
        <kbd className="rounded border border-zinc-300 px-1 font-mono text-[10px] dark:border-zinc-600">Ctrl K</kbd>
      </button>
      <nav aria-label="Main" className="order-last flex w-full gap-1 overflow-x-auto px-2 pb-2 md:order-none md:flex-1 md:flex-col md:overflow-visible">
        {items.map((item) => {
          const active = pathname === item.href || (item.href !== '/' && pathname.startsWith(`${item.href}/`));
          return (
            <Link
              key={item.href}
              href={item.href}
              aria-current={active ? 'page' : undefined}
              className={`flex items-center gap-3 rounded-md px-3 py-2 text-sm whitespace-nowrap ${
                active
                  ? 'bg-sky-50 font-medium text-sky-700 dark:bg-sky-950/60 dark:text-sky-300'
                  : 'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100'
              }`}
            >
              <Icon name={icons[item.href]} />
              {item.label}
            </Link>
          );
        })}
      </nav>
      {me && (
        // On phones this sits at the end of the top bar; on wider screens at the bottom of the sidebar.
        <div className="ml-auto flex items-center gap-1 px-2 md:ml-0 md:gap-2 md:border-t md:border-zinc-200 md:px-3 md:py-3 md:dark:border-zinc-800">
          <div className="hidden min-w-0 flex-1 md:block">
            <div className="truncate text-sm font-medium">{me.user.username}</div>
            <div className="text-xs text-zinc-500 dark:text-zinc-400">{me.role}</div>
          </div>
          <button
            type="button"
            onClick={openPalette}
            className={`rounded-md p-2 text-zinc-600 hover:bg-zinc-200/70 hover:text-zinc-900 md:hidden dark:text-zinc-400
              dark:hover:bg-zinc-800 dark:hover:text-zinc-100`}
            aria-label="Search (command palette)"
          >
            <Icon name="search" />
          </button>
          <ThemeToggle />
          <button
            type="button"
            onClick={logout}
            className="rounded-md p-2 text-zinc-500 hover:bg-zinc-200/70 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
            aria-label="Log out"
            title="Log out"
          >
            <Icon name="logout" />
          </button>
        </div>
      )}
    </aside>
  );
}
