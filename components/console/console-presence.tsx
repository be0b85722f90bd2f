'use client';

import { useState } from 'react';
import type { ConsolePresence } from '@/lib/contracts/console';
import { hueOf, initials } from '@/lib/console-text';

export interface PresenceState {
  viewers: ConsolePresence[];
  keyboard: string | null;
  you: string | null;
}

function Avatar({ v, you, holder }: { v: ConsolePresence; you: boolean; holder: boolean }) {
  const label = `${v.name}${you ? ' (you)' : ''}${v.mode === 'readonly' ? ', watching' : ''}${holder ? ', has the keyboard' : ''}`;
  return (
    <span
      role="listitem"
      aria-label={label}
      title={label}
      className={
        `relative -ml-1.5 flex h-6 w-6 items-center justify-center rounded-full text-[10px] font-semibold ` +
        `text-white ring-2 first:ml-0 ${you ? 'ring-sky-400' : 'ring-white dark:ring-zinc-950'}`
      }
      style={{ backgroundColor: `hsl(${hueOf(v.name)} 55% 30%)` }}
    >
      {initials(v.name)}
      {holder && (
        <span className="absolute -bottom-1 -right-1 rounded-full bg-amber-400 px-0.5 text-[8px] leading-3 text-zinc-900" aria-hidden="true">
          ⌨
        </span>
      )}
    </span>
  );
}

/**
 * Who else watches this console, and the keyboard: any operator types while it is free; one
 * may take it (the others then watch), hand it to another operator, or let it go.
 */
export function ConsolePresenceBar({
  state,
  interactive,
  onKeyboard,
}: {
  state: PresenceState;
  interactive: boolean;
  onKeyboard: (action: 'take' | 'release' | 'give', to?: string) => void;
}) {
  const [handing, setHanding] = useState(false);
  const { viewers, keyboard, you } = state;
  const holder = viewers.find((v) => v.id === keyboard);
  const others = viewers.filter((v) => v.id !== you && v.mode === 'interactive');
  const mine = keyboard !== null && keyboard === you;
  return (
    <div className="flex items-center gap-2">
      {interactive && keyboard === null && viewers.length > 1 && (
        <button
          type="button"
          onClick={() => onKeyboard('take')}
          className="rounded px-1.5 py-0.5 hover:bg-zinc-200 dark:hover:bg-zinc-800"
          title="Only you type until you hand the keyboard over or let it go"
        >
          Take keyboard
        </button>
      )}
      {holder && !mine && <span data-testid="keyboard-holder">{holder.name} has the keyboard</span>}
      {mine && (
        <span className="relative flex items-center gap-1" data-testid="keyboard-holder">
          <span className="font-medium text-amber-700 dark:text-amber-300">You have the keyboard</span>
          {others.length > 0 && (
            <button
              type="button"
              aria-expanded={handing}
              onClick={() => setHanding((h) => !h)}
              className="rounded px-1.5 py-0.5 hover:bg-zinc-200 dark:hover:bg-zinc-800"
            >
              Hand over…
            </button>
          )}
          <button type="button" onClick={() => onKeyboard('release')} className="rounded px-1.5 py-0.5 hover:bg-zinc-200 dark:hover:bg-zinc-800">
            Let go
          </button>
          {handing && (
            <span
              role="menu"
              aria-label="Hand the keyboard to"
              className="absolute right-0 top-6 z-20 min-w-40 rounded-md border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
            >
              {others.map((o) => (
                <button
                  key={o.id}
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setHanding(false);
                    onKeyboard('give', o.id);
                  }}
                  className="block w-full rounded px-2 py-1 text-left hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  {o.name}
                </button>
              ))}
            </span>
          )}
        </span>
      )}
      <span role="list" aria-label="People watching this console" className="flex items-center" data-testid="console-presence" data-count={viewers.length}>
        {viewers.slice(0, 6).map((v) => (
          <Avatar key={v.id} v={v} you={v.id === you} holder={v.id === keyboard} />
        ))}
        {viewers.length > 6 && <span className="ml-1">+{viewers.length - 6}</span>}
      </span>
    </div>
  );
}
