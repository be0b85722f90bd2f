'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type RFB from '@novnc/novnc';
import { KEY_COMBOS, sendCombo } from '@/components/display/key-combos';
import { ClipboardPanel } from '@/components/display/clipboard-panel';

type Status = 'connecting' | 'live' | 'closed';

const tool = 'whitespace-nowrap rounded px-2 py-1 hover:bg-zinc-200 disabled:opacity-40 dark:hover:bg-zinc-800';

/** The display socket of a machine, on this page's origin (the session cookie goes along; a share link adds its token). */
export function displayUrl(machineId: string, share?: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const q = share ? `?share=${encodeURIComponent(share)}` : '';
  return `${scheme}://${window.location.host}/api/machines/${encodeURIComponent(machineId)}/display${q}`;
}

/**
 * A VM's screen with noVNC, scaled to fit, over Hangar's display socket. noVNC is loaded in the
 * browser only (an ES module that touches `window`), when the tab opens. Read-only callers see the
 * screen; the server drops their input whatever the page does, and the page says so.
 */
export function DisplayView(props: { machine: { id: string; name: string }; readOnly: boolean; share?: string; popout?: boolean; className?: string }) {
  const { machine, readOnly, share, popout = false, className = '' } = props;
  const screen = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const rfb = useRef<RFB | null>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [why, setWhy] = useState<string | null>(null);
  const [fromGuest, setFromGuest] = useState('');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let gone = false;
    let conn: RFB | null = null;
    setStatus('connecting');
    setWhy(null);
    void import('@novnc/novnc').then(({ default: Rfb }) => {
      if (gone || !screen.current) return;
      conn = new Rfb(screen.current, displayUrl(machine.id, share), { shared: true });
      conn.scaleViewport = true;
      conn.resizeSession = false;
      conn.viewOnly = readOnly;
      conn.background = 'rgb(9, 9, 11)';
      conn.addEventListener('connect', () => setStatus('live'));
      conn.addEventListener('disconnect', (e) => {
        setStatus('closed');
        setWhy(
          (e as CustomEvent<{ clean: boolean }>).detail.clean
            ? 'The display closed (the machine stopped, or your access changed).'
            : 'The connection was lost.',
        );
      });
      conn.addEventListener('clipboard', (e) => setFromGuest((e as CustomEvent<{ text: string }>).detail.text));
      rfb.current = conn;
    });
    return () => {
      gone = true;
      conn?.disconnect();
      rfb.current = null;
    };
  }, [machine.id, readOnly, share, attempt]);

  const fullScreen = useCallback(() => void frame.current?.requestFullscreen().catch(() => undefined), []);
  const popOut = useCallback(
    () =>
      window.open(
        `/popout/display?machine=${encodeURIComponent(machine.id)}&title=${encodeURIComponent(machine.name)}`,
        `hangar-display-${machine.id}`,
        'popup,width=1024,height=700',
      ),
    [machine.id, machine.name],
  );
  const live = status === 'live';
  return (
    <div
      ref={frame}
      className={`flex flex-col overflow-hidden rounded-xl border border-zinc-300 bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 ${className}`}
    >
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-300 px-2 py-1 text-xs dark:border-zinc-700" role="toolbar" aria-label="Display">
        <span data-testid="display-status" data-status={status} className="font-medium">
          {status === 'connecting' ? 'Connecting…' : live ? 'Live' : 'Closed'}
        </span>
        {readOnly && (
          <span data-testid="display-readonly" className="rounded bg-amber-100 px-1.5 py-0.5 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200">
            Read-only: you watch; keys and mouse are not sent
          </span>
        )}
        <span className="flex-1" />
        {!readOnly && (
          <label className="flex items-center gap-1">
            <span className="sr-only">Send keys</span>
            <select
              aria-label="Send keys"
              data-testid="display-keys"
              className="rounded border border-zinc-300 bg-white px-1 py-0.5 dark:border-zinc-700 dark:bg-zinc-950"
              value=""
              disabled={!live}
              onChange={(e) => {
                const combo = KEY_COMBOS.find((k) => k.label === e.target.value);
                if (combo && rfb.current) sendCombo(rfb.current, combo);
                rfb.current?.focus();
              }}
            >
              <option value="">Send keys…</option>
              {KEY_COMBOS.map((k) => (
                <option key={k.label} value={k.label}>
                  {k.label}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className={tool} onClick={fullScreen}>
          Full screen
        </button>
        {!popout && !share && (
          <button type="button" className={tool} onClick={popOut}>
            Pop out
          </button>
        )}
        {status === 'closed' && (
          <button type="button" className={tool} onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        )}
      </div>
      {why && <p className="px-3 py-1 text-xs text-amber-800 dark:text-amber-300">{why}</p>}
      <div ref={screen} data-testid="display-screen" className="min-h-0 flex-1 bg-zinc-950" />
      {!readOnly && <ClipboardPanel fromGuest={fromGuest} disabled={!live} onSend={(t) => rfb.current?.clipboardPasteFrom(t)} />}
    </div>
  );
}
