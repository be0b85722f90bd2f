'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { memo } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { memoryScale } from '@/lib/chart';
import { formatAge, formatBytes, formatPct } from '@/lib/format';
import { useMachineStats } from '@/components/overview/live-stats';
import { Sparkline } from '@/components/overview/sparkline';
import { StateBadge } from '@/components/machines/state-badge';
import { columnClass } from '@/components/machines/machine-columns';
import { ScreenThumbnail } from '@/components/display/screen-thumbnail';

const LIVE: Machine['state'][] = ['running', 'paused', 'starting', 'stopping'];

/**
 * A machine's tags beside its name: one chip in a narrow name column, two from 22rem on (a container query), the rest
 * counted ("+3", named in its tooltip). They take at most half the cell, so a tag never pushes the name out of sight
 * and no chip is cut off at the column's edge.
 */
function TagChips({ tags, onTag }: { tags: string[]; onTag: (tag: string) => void }) {
  const more = (shown: number) =>
    tags.length > shown && (
      <span
        title={`Also tagged ${tags.slice(shown).join(', ')}`}
        className={`shrink-0 px-0.5 py-px text-[11px] font-normal text-zinc-500 dark:text-zinc-400
          ${shown === 1 ? '@[22rem]:hidden' : 'hidden @[22rem]:inline'}`}
      >
        +{tags.length - shown}
      </span>
    );
  return (
    <span className="flex max-w-[50%] shrink-0 gap-1 overflow-hidden">
      {tags.slice(0, 2).map((t, i) => (
        <button
          key={t}
          type="button"
          onClick={() => onTag(t)}
          title={`Show machines tagged ${t}`}
          className={`max-w-[8rem] min-w-0 shrink truncate rounded-full bg-zinc-100 px-1.5 py-px text-[11px] font-normal text-zinc-700 hover:bg-sky-100
            hover:text-sky-800 dark:bg-zinc-800 dark:text-zinc-300 dark:hover:bg-sky-950 dark:hover:text-sky-200 ${i > 0 ? 'hidden @[22rem]:block' : ''}`}
        >
          {t}
        </button>
      ))}
      {more(1)}
      {more(2)}
    </span>
  );
}
/** CPU and memory of the last minute, as two sparklines with today's figure (only while the machine runs). */
function LiveCells({ m }: { m: Machine }) {
  const samples = useMachineStats(m.id);
  const live = LIVE.includes(m.state);
  const last = live ? samples[samples.length - 1] : undefined;
  const cpu = samples.map((s) => s.cpuPct);
  const mem = samples.map((s) => s.memBytes);
  const memMax = memoryScale(last?.memLimitBytes ?? m.memoryMib * 2 ** 20, mem);
  return (
    <>
      <td className={`py-2 ${columnClass.cpu}`}>
        {last ? (
          <span className="flex items-center gap-2">
            <Sparkline
              values={cpu}
              max={100}
              label={`CPU ${last.cpuPct === null ? 'unknown' : formatPct(last.cpuPct)}`}
              className="text-sky-700 dark:text-sky-400"
            />
            <span className="w-10 text-right text-xs whitespace-nowrap text-zinc-700 tabular-nums dark:text-zinc-300">
              {last.cpuPct === null ? '–' : formatPct(last.cpuPct)}
            </span>
          </span>
        ) : (
          <span className="text-xs text-zinc-500 dark:text-zinc-400">–</span>
        )}
      </td>
      <td className={`py-2 ${columnClass.memory}`}>
        {last ? (
          <span className="flex items-center gap-2">
            <Sparkline
              values={mem}
              max={memMax}
              label={`Memory ${last.memBytes === null ? 'unknown' : formatBytes(last.memBytes)}`}
              className="text-violet-600 dark:text-violet-400"
            />
            <span className="w-14 text-right text-xs whitespace-nowrap text-zinc-700 tabular-nums dark:text-zinc-300">
              {last.memBytes === null ? '–' : formatBytes(last.memBytes)}
            </span>
          </span>
        ) : (
          <span className="text-xs text-zinc-500 dark:text-zinc-400">{m.memoryMib} MiB</span>
        )}
      </td>
    </>
  );
}

/**
 * One machine in the list, one line high (the list renders only the rows on screen and counts on
 * one height). Memoized on the machine object: an update to one machine replaces that object
 * only, so the other rows do not render again; live figures come through LiveCells' own subscription.
 */
export const MachineRow = memo(function MachineRow({
  m,
  index,
  selectable,
  selected,
  onSelect,
  onTag,
  screens = false,
  node = false,
}: {
  m: Machine;
  /** Its place in the list shown (0 first). */
  index: number;
  selectable: boolean;
  selected: boolean;
  onSelect: (id: string, on: boolean, range: boolean) => void;
  onTag: (tag: string) => void;
  /** Show running VMs' screens beside their names. */
  screens?: boolean;
  /** The Node column (a cluster). */
  node?: boolean;
}) {
  const router = useRouter();
  return (
    <tr
      className={
        `h-10 border-b border-zinc-100 whitespace-nowrap last:border-0 dark:border-zinc-800/70 ` +
        `${selected ? 'bg-sky-50/70 dark:bg-sky-950/30' : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/40'}`
      }
      data-testid="machine-row"
      data-machine={m.name}
      data-state={m.state}
      data-index={index}
      aria-rowindex={index + 2}
    >
      <td className={`py-2 ${columnClass.select}`}>
        {selectable && (
          <input
            type="checkbox"
            checked={selected}
            onChange={(e) => onSelect(m.id, e.target.checked, (e.nativeEvent as MouseEvent).shiftKey)}
            aria-label={`Select ${m.name}`}
            className="block h-4 w-4 rounded border-zinc-300 accent-sky-600 dark:border-zinc-600"
          />
        )}
      </td>
      <td className={`overflow-hidden py-2 font-medium ${columnClass.name}`}>
        <div className={`@container flex min-w-0 gap-2 ${screens ? 'items-center' : 'items-baseline'}`}>
          {screens && m.capabilities.display.available && m.state === 'running' && (
            <ScreenThumbnail small machine={m} onOpen={() => router.push(`/machines/${encodeURIComponent(m.name)}?tab=display`)} />
          )}
          <Link href={`/machines/${encodeURIComponent(m.name)}`} title={m.name} className="min-w-0 truncate text-sky-700 hover:underline dark:text-sky-300">
            {m.name}
          </Link>
          {m.tags.length > 0 && <TagChips tags={m.tags} onTag={onTag} />}
        </div>
      </td>
      <td className={`py-2 ${columnClass.state}`}>
        <StateBadge state={m.state} />
      </td>
      <td className={`truncate py-2 ${columnClass.driver}`}>
        {m.driver}
        {m.accel ? ` (${m.accel})` : ''}
      </td>
      <td className={`truncate py-2 ${columnClass.image}`} title={m.image}>
        {m.image || (m.cdrom ? `ISO ${m.cdrom}` : 'ISO install')}
      </td>
      {node && (
        <td className={`truncate py-2 ${columnClass.node}`} title={m.node ? `Runs on node ${m.node.name}` : undefined}>
          {m.node?.name ?? '—'}
        </td>
      )}
      <LiveCells m={m} />
      <td className={`truncate py-2 text-zinc-600 dark:text-zinc-400 ${columnClass.resources}`}>
        {m.cpus} vCPU · {m.memoryMib} MiB
      </td>
      <td className={`truncate py-2 text-zinc-600 dark:text-zinc-400 ${columnClass.created}`}>{formatAge(m.createdAt)}</td>
    </tr>
  );
});
