'use client';

import { useRef } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import type { MachineView, SortKey } from '@/lib/machine-filter';
import { MachineRow } from '@/components/machines/machine-row';
import { useWindowRows } from '@/components/machines/window-rows';
import { columnClass } from '@/components/machines/machine-columns';

const columns: { key: SortKey | null; label: string; className: string }[] = [
  { key: 'name', label: 'Name', className: columnClass.name },
  { key: 'state', label: 'State', className: columnClass.state },
  { key: 'driver', label: 'Driver', className: columnClass.driver },
  { key: 'image', label: 'Image', className: columnClass.image },
  { key: 'node', label: 'Node', className: columnClass.node },
  { key: 'cpu', label: 'CPU', className: columnClass.cpu },
  { key: 'memory', label: 'Memory', className: columnClass.memory },
  { key: null, label: 'Resources', className: columnClass.resources },
  { key: 'created', label: 'Created', className: columnClass.created },
];

/** Lists up to this long render whole; longer ones only the rows on screen and these around them. */
const RENDER_ALL_UP_TO = 100;
const OVERSCAN = 12;
const ROW_PX = 40;

// Stuck to the top of the window while the rows scroll under it; the line under it is a shadow,
// as a collapsed border does not move with a sticky cell.
const headCell = 'sticky top-0 z-10 bg-white py-2 shadow-[inset_0_-1px_0] shadow-zinc-200 dark:bg-[#0f0f11] dark:shadow-zinc-800';

export function MachineTable({
  shown,
  selected,
  selectable,
  view,
  setView,
  onSelect,
  onSelectAll,
  onTag,
  nodes = false,
}: {
  shown: Machine[];
  selected: Set<string>;
  selectable: boolean;
  view: MachineView;
  setView: (patch: Partial<MachineView>) => void;
  onSelect: (id: string, on: boolean, range: boolean) => void;
  onSelectAll: (on: boolean) => void;
  onTag: (tag: string) => void;
  /** A cluster: the Node column (which node runs each machine). */
  nodes?: boolean;
}) {
  const root = useRef<HTMLDivElement | null>(null);
  const rows = useWindowRows(shown.length, { from: RENDER_ALL_UP_TO, estimate: ROW_PX, overscan: OVERSCAN, root });
  const allShownSelected = shown.length > 0 && shown.every((m) => selected.has(m.id));
  const someShownSelected = !allShownSelected && shown.some((m) => selected.has(m.id));
  return (
    // No scroll anchoring in here: the browser would keep a row in place as rows are swapped for
    // spacers, which scrolls, which swaps rows again, down to the end of the list.
    <div ref={root} className="overflow-clip rounded-xl [overflow-anchor:none] border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/40">
      <table className="w-full table-fixed text-left text-sm" aria-rowcount={shown.length + 1}>
        <thead className="text-xs text-zinc-600 uppercase dark:text-zinc-400">
          <tr aria-rowindex={1}>
            <th className={`${headCell} ${columnClass.select}`}>
              {selectable && (
                <input
                  type="checkbox"
                  checked={allShownSelected}
                  ref={(el) => {
                    if (el) el.indeterminate = someShownSelected;
                  }}
                  onChange={(e) => onSelectAll(e.target.checked)}
                  aria-label={allShownSelected ? 'Select none' : `Select all ${shown.length} shown`}
                  className="h-4 w-4 accent-sky-600"
                />
              )}
            </th>
            {columns
              .filter((c) => nodes || c.key !== 'node')
              .map((c) => (
                <th
                  key={c.label}
                  className={`${headCell} font-medium whitespace-nowrap ${c.className}`}
                  aria-sort={c.key && view.sort === c.key ? (view.desc ? 'descending' : 'ascending') : undefined}
                >
                  {c.key ? (
                    <button
                      type="button"
                      onClick={() =>
                        setView({ sort: c.key!, desc: view.sort === c.key ? !view.desc : c.key === 'cpu' || c.key === 'memory' || c.key === 'created' })
                      }
                      className="inline-flex items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
                    >
                      {c.label}
                      <span aria-hidden="true" className={view.sort === c.key ? '' : 'invisible'}>
                        {view.desc ? '↓' : '↑'}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
          </tr>
        </thead>
        <tbody ref={rows.bodyRef}>
          {rows.padTop > 0 && <Spacer height={rows.padTop} />}
          {shown.slice(rows.start, rows.end).map((m, i) => (
            <MachineRow
              key={m.id}
              m={m}
              index={rows.start + i}
              selectable={selectable}
              selected={selected.has(m.id)}
              onSelect={onSelect}
              onTag={onTag}
              screens={view.screens}
              node={nodes}
            />
          ))}
          {rows.padBottom > 0 && <Spacer height={rows.padBottom} />}
        </tbody>
      </table>
      {shown.length === 0 && <p className="px-4 py-8 text-center text-sm text-zinc-600 dark:text-zinc-400">No machine matches these filters.</p>}
    </div>
  );
}

/** Room for the rows not rendered, so the page is as long as the whole list and the scrollbar tells where you are. */
function Spacer({ height }: { height: number }) {
  return (
    // One cell, not a colSpan over every column: a fixed-layout table counts columns on every row, and would
    // make room for the ones hidden on narrow screens.
    <tr aria-hidden="true" style={{ height }}>
      <td className="p-0" />
    </tr>
  );
}
