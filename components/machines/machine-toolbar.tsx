'use client';

import { driverKinds, machineStates } from '@/lib/contracts/machines';
import type { MachineView } from '@/lib/machine-filter';

const selectClass = 'rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * Search and filters of the machine list. The search box takes words (name, image, tag) and
 * `tag:x state:x driver:x image:x`; `/` focuses it from anywhere on the page.
 */
export function MachineToolbar({
  view,
  onChange,
  tags,
  shown,
  total,
}: {
  view: MachineView;
  onChange: (v: Partial<MachineView>) => void;
  tags: { tag: string; count: number }[];
  shown: number;
  total: number;
}) {
  const filtered = view.q || view.states.length || view.drivers.length || view.tags.length;
  return (
    <div className="flex flex-wrap items-center gap-2" role="search" aria-label="Filter machines">
      <input
        type="search"
        value={view.q}
        onChange={(e) => onChange({ q: e.target.value })}
        placeholder="Search: name, image, tag:web, state:running"
        aria-label="Search machines"
        data-hotkey-search
        className={`min-w-0 flex-1 basis-56 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm
          placeholder:text-zinc-500 dark:border-zinc-700 dark:bg-zinc-900 dark:placeholder:text-zinc-400`}
      />
      <select
        aria-label="State"
        value={view.states[0] ?? ''}
        onChange={(e) => onChange({ states: e.target.value ? [e.target.value as MachineView['states'][number]] : [] })}
        className={selectClass}
      >
        <option value="">Any state</option>
        {machineStates.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      <select
        aria-label="Driver"
        value={view.drivers[0] ?? ''}
        onChange={(e) => onChange({ drivers: e.target.value ? [e.target.value as MachineView['drivers'][number]] : [] })}
        className={selectClass}
      >
        <option value="">Any driver</option>
        {driverKinds.map((d) => (
          <option key={d} value={d}>
            {d}
          </option>
        ))}
      </select>
      <select
        aria-label="Tag"
        value={view.tags[0] ?? ''}
        onChange={(e) => onChange({ tags: e.target.value ? [e.target.value] : [] })}
        className={selectClass}
        disabled={tags.length === 0 && view.tags.length === 0}
      >
        <option value="">{tags.length ? 'Any tag' : 'No tags yet'}</option>
        {/* A tag in the URL that no machine has (any more) is still shown, so the filter can be seen and cleared. */}
        {view.tags
          .filter((t) => !tags.some((x) => x.tag === t))
          .map((t) => (
            <option key={t} value={t}>
              {t} (0)
            </option>
          ))}
        {tags.map((t) => (
          <option key={t.tag} value={t.tag}>
            {t.tag} ({t.count})
          </option>
        ))}
      </select>
      <label className="flex items-center gap-1.5 text-xs text-zinc-700 dark:text-zinc-300" title="A live picture of each running VM's screen">
        <input type="checkbox" checked={view.screens} onChange={(e) => onChange({ screens: e.target.checked })} className="h-3.5 w-3.5 accent-sky-600" />
        Screens
      </label>
      <span className="text-xs text-zinc-600 dark:text-zinc-400" aria-live="polite">
        {filtered ? `${shown} of ${total}` : `${total} ${total === 1 ? 'machine' : 'machines'}`}
      </span>
      {filtered ? (
        <button
          type="button"
          onClick={() => onChange({ q: '', states: [], drivers: [], tags: [] })}
          className="rounded-md px-2 py-1 text-xs font-medium text-sky-700 hover:bg-sky-50 dark:text-sky-300 dark:hover:bg-sky-950/40"
        >
          Clear filters
        </button>
      ) : null}
    </div>
  );
}
