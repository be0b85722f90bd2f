'use client';

import { useState } from 'react';

/** Text to the machine's clipboard, and the last text its clipboard sent (where the guest shares one). */
export function ClipboardPanel({ fromGuest, disabled, onSend }: { fromGuest: string; disabled: boolean; onSend(text: string): void }) {
  const [text, setText] = useState('');
  return (
    <details className="border-t border-zinc-300 px-2 py-1 text-xs dark:border-zinc-700">
      <summary className="cursor-pointer select-none py-0.5">Clipboard</summary>
      <div className="flex flex-wrap items-start gap-2 py-1">
        <label className="flex min-w-64 flex-1 flex-col gap-1">
          To the machine
          <textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={2}
            maxLength={64 * 1024}
            className="rounded border border-zinc-300 bg-white p-1 font-mono dark:border-zinc-700 dark:bg-zinc-950"
          />
        </label>
        <button
          type="button"
          disabled={disabled || !text}
          onClick={() => onSend(text)}
          className="mt-5 rounded bg-sky-700 px-2 py-1 text-white hover:bg-sky-800 disabled:opacity-40"
        >
          Send
        </button>
        <label className="flex min-w-64 flex-1 flex-col gap-1">
          From the machine
          <textarea
            readOnly
            value={fromGuest}
            rows={2}
            placeholder="Nothing yet"
            className="rounded border border-zinc-300 bg-zinc-100 p-1 font-mono dark:border-zinc-700 dark:bg-zinc-900"
          />
        </label>
      </div>
    </details>
  );
}
