'use client';

import type { ConsoleMode } from '@/lib/contracts/console';
import type { ConsoleStatus } from '@/components/console/console-link';
import { FONT_MAX, FONT_MIN } from '@/components/console/console-prefs';
import { ConsolePresenceBar, type PresenceState } from '@/components/console/console-presence';

const statusText: Record<ConsoleStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  exited: 'Session ended',
  error: 'Error',
};

const tool = 'whitespace-nowrap rounded px-1.5 py-0.5 hover:bg-zinc-200 disabled:opacity-40 dark:hover:bg-zinc-800';

export interface ConsoleToolbarProps {
  status: ConsoleStatus;
  mode: ConsoleMode;
  recording: boolean;
  /** A personal session (a shell) that ended: it can start anew. */
  canRenew: boolean;
  onRenew(): void;
  /** How shortcuts are written here: ⌘ on a Mac, Ctrl+Shift+ elsewhere. */
  chord: string;
  onFind(): void;
  onCopy(): void;
  onPaste(): void;
  onDownload(): void;
  onClear(): void;
  fontSize: number;
  onZoom(delta: number): void;
  /** Null in the pop-out window itself and for share links. */
  onPopout: (() => void) | null;
  flash: string | null;
  presence: PresenceState;
  onKeyboard(action: 'take' | 'release' | 'give', to?: string): void;
}

/** A console's header: its state, read-only and recording marks, the tools, and who else watches. */
export function ConsoleToolbar(props: ConsoleToolbarProps) {
  const {
    status,
    mode,
    recording,
    canRenew,
    onRenew,
    chord,
    onFind,
    onCopy,
    onPaste,
    onDownload,
    onClear,
    fontSize,
    onZoom,
    onPopout,
    flash,
    presence,
    onKeyboard,
  } = props;
  const dot = status === 'live' ? 'bg-emerald-500' : status === 'error' ? 'bg-red-500' : status === 'exited' ? 'bg-zinc-400' : 'bg-amber-400 animate-pulse';
  return (
    <div
      className={`flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 px-3 py-1.5 text-xs text-zinc-600
      dark:border-zinc-800 dark:text-zinc-400`}
    >
      <span className="flex items-center gap-1.5" data-testid="console-status" data-status={status}>
        <span className={`h-2 w-2 rounded-full ${dot}`} aria-hidden="true" />
        {statusText[status]}
      </span>
      {mode === 'readonly' && <span className="rounded bg-zinc-200 px-1.5 py-0.5 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">read-only</span>}
      {recording && (
        <span className="rounded bg-red-100 px-1.5 py-0.5 text-red-700 dark:bg-red-950 dark:text-red-300" title="This session is being recorded">
          ● REC
        </span>
      )}
      {canRenew && (
        <button
          type="button"
          onClick={onRenew}
          className="rounded bg-zinc-200 px-2 py-0.5 text-zinc-800 hover:bg-zinc-300 dark:bg-zinc-800 dark:text-zinc-200 dark:hover:bg-zinc-700"
        >
          New session
        </button>
      )}
      <span className="flex items-center gap-0.5" role="toolbar" aria-label="Console tools">
        <button type="button" className={tool} onClick={onFind} aria-label="Find in scrollback" title={`Find (${chord}F)`}>
          Find
        </button>
        <button type="button" className={tool} onClick={onCopy} aria-label="Copy selection" title={`Copy (${chord}C)`}>
          Copy
        </button>
        <button type="button" className={tool} disabled={mode !== 'interactive'} onClick={onPaste} aria-label="Paste" title={`Paste (${chord}V)`}>
          Paste
        </button>
        <button type="button" className={tool} onClick={onDownload} aria-label="Download scrollback" title="Download scrollback as text">
          Save
        </button>
        <button type="button" className={tool} onClick={onClear} aria-label="Clear view" title="Clear this view (the session keeps running)">
          Clear
        </button>
        <button type="button" className={tool} disabled={fontSize <= FONT_MIN} onClick={() => onZoom(-1)} aria-label="Smaller text">
          A−
        </button>
        <button type="button" className={tool} disabled={fontSize >= FONT_MAX} onClick={() => onZoom(1)} aria-label="Larger text">
          A+
        </button>
        {onPopout && (
          <button type="button" className={tool} onClick={onPopout} aria-label="Pop out" title="Open in its own window (same session)">
            Pop out ↗
          </button>
        )}
      </span>
      {flash && (
        <span role="status" className="text-sky-700 dark:text-sky-300">
          {flash}
        </span>
      )}
      <span className="ml-auto">
        <ConsolePresenceBar state={presence} interactive={mode === 'interactive'} onKeyboard={onKeyboard} />
      </span>
    </div>
  );
}
