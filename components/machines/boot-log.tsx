'use client';

import { useEffect, useRef, useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { plainLog } from '@/lib/console-text';
import { formatBytes } from '@/lib/format';
import { api } from '@/components/ui/api';

/** The last 512 KiB of the log on screen; older lines are in the download. */
const TAIL = 512 * 1024;

/**
 * The machine's console log from its first boot line (serial line, or the container's output),
 * as plain text, followed every 2 s while the machine runs; the whole log downloads as a file.
 */
export function BootLog({ m }: { m: Machine }) {
  const [text, setText] = useState<string | null>(null);
  const [size, setSize] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  const running = m.state === 'running' || m.state === 'starting' || m.state === 'paused';

  useEffect(() => {
    let next: number | null = null;
    let gone = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const read = async () => {
      try {
        const piece = await api.machines.logs(m.id, next === null ? { tail: TAIL } : { from: next });
        if (gone) return;
        // The first read (again when the machine starts or stops) is the tail: it replaces what is shown.
        // A log rotated since (a restart) is shorter than where we were: the server read it from its start.
        const fresh = next === null || piece.size < next;
        next = piece.next;
        setSize(piece.size);
        setText((old) => {
          const joined = (fresh || old === null ? '' : old) + piece.text;
          return joined.length > TAIL ? joined.slice(joined.length - TAIL) : joined;
        });
        setError(null);
      } catch (err) {
        if (!gone) setError(err instanceof Error ? err.message : String(err));
      }
      if (!gone && running) timer = setTimeout(read, 2000);
    };
    void read();
    return () => {
      gone = true;
      if (timer) clearTimeout(timer);
    };
  }, [m.id, running]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  const shown = text === null ? null : plainLog(text);
  const download = () => {
    const url = URL.createObjectURL(new Blob([shown ?? ''], { type: 'text/plain' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: `${m.name}-console.log` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section aria-label="Boot log" className="space-y-2">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span className="text-zinc-600 dark:text-zinc-400">
          {m.capabilities.words.consoleLog} since the first boot · {formatBytes(size)}
          {size > TAIL ? ' (the last 512 KiB shown)' : ''}
          {running ? ' · following' : ''}
        </span>
        <label className="ml-auto inline-flex items-center gap-1.5">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} className="accent-sky-600" /> Scroll to new lines
        </label>
        <button
          type="button"
          onClick={download}
          disabled={!shown}
          className="rounded-md border border-zinc-300 px-2.5 py-1 font-medium hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Download
        </button>
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      <pre
        ref={pre}
        tabIndex={0}
        data-testid="boot-log"
        aria-label="Console log"
        className={`h-[28rem] overflow-auto rounded-xl border border-zinc-200 bg-zinc-950 p-3 font-mono text-xs leading-relaxed
          whitespace-pre-wrap text-zinc-100 dark:border-zinc-800`}
      >
        {shown === null ? 'Loading…' : shown || 'Nothing logged yet.'}
      </pre>
    </section>
  );
}
