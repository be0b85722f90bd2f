'use client';

import { useEffect, useState } from 'react';
import { SCREENSHOT_REFRESH_MS } from '@/lib/contracts/display';
import { api } from '@/components/ui/api';

/**
 * A small picture of a running VM's screen in its page's header, taken again every few seconds
 * while the page is visible (a hidden tab asks for nothing). Clicking it opens the Display tab.
 */
export function ScreenThumbnail({ machine, onOpen, small = false }: { machine: { id: string; name: string }; onOpen(): void; small?: boolean }) {
  const [tick, setTick] = useState(0);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, SCREENSHOT_REFRESH_MS);
    const seen = () => document.visibilityState === 'visible' && setTick((n) => n + 1);
    document.addEventListener('visibilitychange', seen);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', seen);
    };
  }, []);
  if (failed) return null;
  return (
    <button
      type="button"
      onClick={onOpen}
      title="The screen now: open the Display tab"
      className="shrink-0 overflow-hidden rounded border border-zinc-300 bg-black hover:border-sky-500 dark:border-zinc-700"
    >
      {/* A fresh PNG from the API each time: next/image would cache and resize what must stay live. */}
      <img
        src={`${api.machines.screenshotUrl(machine.id)}?t=${tick}`}
        alt={`Screen of ${machine.name}`}
        data-testid="screen-thumbnail"
        className={`block object-contain ${small ? 'h-[24px] w-[43px]' : 'h-[54px] w-[96px]'}`}
        onError={() => setFailed(true)}
      />
    </button>
  );
}
