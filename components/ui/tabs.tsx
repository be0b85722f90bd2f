'use client';

import { useRef, type ReactNode } from 'react';

export interface TabDef<T extends string> {
  id: T;
  label: ReactNode;
}

/**
 * A WAI-ARIA tab list: the selected tab is the one stop in the Tab order, arrow keys (and
 * Home/End) move between tabs and select them. Panels use `tabPanelProps` for their labels.
 */
export function Tabs<T extends string>({
  tabs,
  current,
  onSelect,
  label,
  idPrefix,
  trailing,
}: {
  tabs: TabDef<T>[];
  current: T;
  onSelect: (id: T, by: 'keyboard' | 'pointer') => void;
  label: string;
  idPrefix: string;
  trailing?: ReactNode;
}) {
  const refs = useRef(new Map<T, HTMLButtonElement>());
  const move = (to: number) => {
    const t = tabs[(to + tabs.length) % tabs.length];
    onSelect(t.id, 'keyboard');
    refs.current.get(t.id)?.focus();
  };
  const at = tabs.findIndex((t) => t.id === current);
  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-200 dark:border-zinc-800">
      <div
        role="tablist"
        aria-label={label}
        className="-mb-px flex max-w-full gap-1 overflow-x-auto text-sm"
        onKeyDown={(e) => {
          const k = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
          if (k === undefined) return;
          e.preventDefault();
          move(k);
        }}
      >
        {tabs.map((t) => {
          const on = t.id === current;
          return (
            <button
              key={t.id}
              ref={(el) => {
                if (el) refs.current.set(t.id, el);
                else refs.current.delete(t.id);
              }}
              type="button"
              role="tab"
              id={`${idPrefix}-tab-${t.id}`}
              aria-selected={on}
              aria-controls={`${idPrefix}-panel-${t.id}`}
              tabIndex={on ? 0 : -1}
              onClick={() => onSelect(t.id, 'pointer')}
              className={
                `border-b-2 px-3 py-2 font-medium whitespace-nowrap ` +
                (on
                  ? 'border-sky-600 text-sky-800 dark:border-sky-400 dark:text-sky-200'
                  : 'border-transparent text-zinc-600 hover:border-zinc-300 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100')
              }
            >
              {t.label}
            </button>
          );
        })}
      </div>
      {trailing && <div className="ml-auto min-w-0 pb-1">{trailing}</div>}
    </div>
  );
}

export const tabPanelProps = (idPrefix: string, id: string) => ({
  role: 'tabpanel' as const,
  id: `${idPrefix}-panel-${id}`,
  'aria-labelledby': `${idPrefix}-tab-${id}`,
  tabIndex: 0,
});
