'use client';

import '@xterm/xterm/css/xterm.css';
import { useCallback, useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { AttachReply, ConsoleMode, ConsoleTarget, KeyboardReply } from '@/lib/contracts/console';
import type { ConsoleClientToServer, ConsoleServerToClient } from '@/lib/events';
import { checkPaste, type PasteCheck } from '@/lib/console-text';
import { isTerminalReport } from '@/lib/terminal-reports';
import { FONT_MAX, FONT_MIN, isMac, selectToCopyPref, setFontSizePref, setSelectToCopyPref } from '@/components/console/console-prefs';
import { ConsoleMenu, ConsoleSearch, PasteConfirm, type MenuItem } from '@/components/console/console-parts';
import { ConsolePresenceBar, type PresenceState } from '@/components/console/console-presence';
import { consoleSessionId, forgetConsoleSessionId } from '@/components/console/console-session-id';
import { createTerminal, downloadText, type TerminalKit } from '@/components/console/console-terminal';
import { OutputWriter } from '@/components/console/output-writer';

type Status = 'connecting' | 'live' | 'reconnecting' | 'exited' | 'error';

const statusText: Record<Status, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  exited: 'Session ended',
  error: 'Error',
};

export interface ConsoleProps {
  target: ConsoleTarget;
  /** Storage key for the client-made session id (one per console per tab). */
  sessionKey: string;
  mode?: ConsoleMode;
  className?: string;
  /** A share link's token: the socket authenticates with it instead of the session cookie. */
  share?: string;
  /** Join this session id instead of the tab's own (a pop-out window continues its opener's session). */
  sessionId?: string;
  /** Names downloads and the pop-out window. */
  title?: string;
  /** This is the pop-out window: no button to pop out again. */
  popout?: boolean;
  /** Broadcast typing (the workspace): keys typed here also go to these other consoles. */
  onTyped?: (data: string) => void;
  /** Lets a workspace type into this console (broadcast). */
  inputRef?: (send: ((data: string) => void) | null) => void;
  /** Take the keyboard focus once attached (not when the user is moving through tabs with the keyboard). */
  autoFocus?: boolean;
}

/** Where a console opens in a window of its own, on the same session. */
export function popoutUrl(target: ConsoleTarget, sessionId: string, title: string): string {
  const q = new URLSearchParams({ sid: sessionId, title });
  if (target.kind === 'machine') {
    q.set('machine', target.machineId);
    q.set('channel', target.channel);
  } else q.set('kind', 'host-shell');
  return `/popout?${q}`;
}

const tool = 'whitespace-nowrap rounded px-1.5 py-0.5 hover:bg-zinc-200 disabled:opacity-40 dark:hover:bg-zinc-800';

/**
 * An xterm.js terminal attached to a server-side console session over `/console`. Output
 * carries absolute offsets: on reconnect the server replays only what this view missed.
 * Copy/paste, find, download, font size, pop-out, presence and the keyboard live here too.
 */
export function Console({
  target,
  sessionKey,
  mode = 'interactive',
  className = '',
  share,
  sessionId: fixedSessionId,
  title = 'console',
  popout = false,
  onTyped,
  inputRef,
  autoFocus = true,
}: ConsoleProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const kitRef = useRef<TerminalKit | null>(null);
  const socketRef = useRef<Socket<ConsoleServerToClient, ConsoleClientToServer> | null>(null);
  const sidRef = useRef<string>('');
  const modeRef = useRef<ConsoleMode>(mode);
  const typedRef = useRef(onTyped);
  typedRef.current = onTyped;
  // Read when the terminal attaches (a ref: a later change must not reconnect the session).
  const autoFocusRef = useRef(autoFocus);
  autoFocusRef.current = autoFocus;
  const [status, setStatus] = useState<Status>('connecting');
  const [detail, setDetail] = useState<string | null>(null);
  const [presence, setPresence] = useState<PresenceState>({ viewers: [], keyboard: null, you: null });
  const [effectiveMode, setEffectiveMode] = useState<ConsoleMode>(mode);
  const [recording, setRecording] = useState(false);
  const [finding, setFinding] = useState(false);
  const [results, setResults] = useState<{ index: number; count: number } | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number } | null>(null);
  const [pending, setPending] = useState<{ text: string; check: PasteCheck } | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [fontSize, setFontSize] = useState(13);
  const [selectCopy, setSelectCopy] = useState(true);
  /** Bumped by "New session": a fresh id, so the server opens a new shell. */
  const [generation, setGeneration] = useState(0);
  const targetKey = JSON.stringify(target);
  const personal = target.kind === 'host-shell' || target.channel === 'ssh';

  const say = useCallback((text: string) => {
    setFlash(text);
    setTimeout(() => setFlash((f) => (f === text ? null : f)), 1800);
  }, []);

  /** Paste as the terminal would (bracketed paste when the program asked for it), after asking for big ones. */
  const paste = useCallback(
    (text: string, confirmed = false) => {
      const kit = kitRef.current;
      if (!kit) return;
      if (modeRef.current !== 'interactive') return say('Read-only: pasting is off.');
      const check = checkPaste(text);
      if (check.confirm && !confirmed) return setPending({ text, check });
      kit.term.paste(text);
      kit.term.focus();
    },
    [say],
  );

  useEffect(() => {
    let disposed = false;
    let cleanup = () => undefined as void;
    (async () => {
      if (!hostRef.current) return;
      const kit = await createTerminal(hostRef.current, {
        onPaste: (text) => paste(text),
        onContextMenu: (x, y) => setMenu({ x, y }),
        onFind: () => setFinding(true),
        onCopied: (ok) => say(ok ? 'Copied' : 'The browser did not allow the clipboard here: use Ctrl+Shift+V or the browser menu.'),
      });
      if (disposed) return kit.dispose();
      kitRef.current = kit;
      setFontSize(kit.term.options.fontSize ?? 13);
      setSelectCopy(selectToCopyPref());
      const { term, fit, search } = kit;
      const resultsSub = search.onDidChangeResults((r) => setResults({ index: r.resultIndex, count: r.resultCount }));
      fit.fit();
      const sessionId = fixedSessionId ?? consoleSessionId(sessionKey);
      sidRef.current = sessionId;
      let offset: number | undefined;
      /** Replays being parsed: terminal replies to their old questions must not reach the guest. */
      let replaying = 0;
      const socket: Socket<ConsoleServerToClient, ConsoleClientToServer> = io('/console', {
        transports: ['websocket'],
        ...(share ? { auth: { share }, forceNew: true } : {}),
      });
      socketRef.current = socket;

      // Everything for the screen goes through one writer, in order; output is coalesced while xterm is busy.
      const out = new OutputWriter(term);
      /** Write output ending at `end`, skipping what this view already shows; `done` runs once xterm parsed it. */
      const write = (end: number, data: string, done?: () => void) => {
        const start = end - data.length;
        if (offset !== undefined && end <= offset) return done?.();
        out.write(offset !== undefined && start < offset ? data.slice(offset - start) : data, done);
        offset = end;
      };
      const attach = () => {
        socket.emit('attach', { sessionId, target, mode, cols: term.cols, rows: term.rows, since: offset }, (r: AttachReply) => {
          if (!r.ok) {
            setStatus('error');
            setDetail(r.error.message);
            out.write(`\r\n\x1b[31m${r.error.message}\x1b[0m\r\n`);
            return;
          }
          if (r.truncated && offset !== undefined) out.write('\r\n\x1b[33m[some output was missed while disconnected]\x1b[0m\r\n');
          if (r.replay) {
            replaying++;
            write(r.offset, r.replay, () => replaying--);
          }
          offset = r.offset;
          modeRef.current = r.mode;
          setEffectiveMode(r.mode);
          setRecording(r.recording);
          setStatus(r.exited ? 'exited' : 'live');
          setDetail(null);
        });
      };
      socket.on('connect', attach);
      socket.on('disconnect', (reason) => {
        if (disposed) return;
        // The server let go of us on purpose (the session ended, the access changed): no retrying.
        if (reason === 'io server disconnect') {
          setStatus('error');
          setDetail('The server closed this console: your session ended or your access changed. Reload the page.');
          return;
        }
        setStatus('reconnecting');
      });
      socket.on('connect_error', (err) => {
        setStatus('reconnecting');
        setDetail(err.message);
      });
      socket.on('output', (msg, ack) => {
        if (msg.sessionId !== sessionId) return;
        // Ack once xterm has parsed the chunk: this is the flow control back to the server.
        write(msg.offset, msg.data, ack);
      });
      socket.on('exit', (m) => m.sessionId === sessionId && setStatus('exited'));
      socket.on('viewers', (m) => m.sessionId === sessionId && setPresence({ viewers: m.viewers, keyboard: m.keyboard, you: m.you }));
      socket.on('closed', (m) => {
        if (m.sessionId !== sessionId) return;
        if (target.kind === 'machine' && target.channel === 'serial' && !disposed) {
          // The machine went down (a restart, a restore): its console comes back as a new session.
          setStatus('reconnecting');
          setDetail(m.reason);
          offset = undefined;
          out.drop();
          term.reset();
          setTimeout(() => !disposed && attach(), 1500);
          return;
        }
        setStatus('error');
        setDetail(m.reason);
      });
      const send = (data: string) => socket.emit('input', { sessionId, data });
      inputRef?.(send);
      const onData = term.onData((data) => {
        if (replaying > 0 && isTerminalReport(data)) return;
        send(data);
        if (!isTerminalReport(data)) typedRef.current?.(data);
      });
      const sendSize = () => {
        fit.fit();
        if (socket.connected) socket.emit('resize', { sessionId, cols: term.cols, rows: term.rows });
      };
      const ro = new ResizeObserver(() => sendSize());
      ro.observe(hostRef.current!);
      if (!onTyped && autoFocusRef.current) term.focus();
      cleanup = () => {
        ro.disconnect();
        onData.dispose();
        resultsSub.dispose();
        inputRef?.(null);
        // Detach, not close: the session lives on in the server for the next viewer or a reload.
        socket.emit('detach', { sessionId });
        socket.disconnect();
        socketRef.current = null;
        kitRef.current = null;
        out.dispose();
        kit.dispose();
      };
    })();
    return () => {
      disposed = true;
      cleanup();
    };
    // targetKey stands for `target` (a fresh object each render).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [targetKey, sessionKey, mode, generation, share, fixedSessionId]);

  const renew = () => {
    forgetConsoleSessionId(sessionKey);
    setStatus('connecting');
    setDetail(null);
    setGeneration((g) => g + 1);
  };

  const find = (q: string, dir: 'next' | 'prev') => {
    const s = kitRef.current?.search;
    if (!s) return;
    if (!q) {
      s.clearDecorations();
      setResults(null);
      return;
    }
    const opts = {
      incremental: dir === 'next',
      decorations: { matchBackground: '#facc1566', activeMatchBackground: '#f97316', matchOverviewRuler: '#facc15', activeMatchColorOverviewRuler: '#f97316' },
    };
    if (dir === 'next') s.findNext(q, opts);
    else s.findPrevious(q, opts);
  };

  const zoom = (delta: number) => {
    const kit = kitRef.current;
    if (!kit) return;
    const n = setFontSizePref((kit.term.options.fontSize ?? 13) + delta);
    kit.term.options.fontSize = n;
    setFontSize(n);
    kit.fit.fit();
  };

  const download = () => {
    const kit = kitRef.current;
    if (kit) downloadText(`${title.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.txt`, kit.text());
  };

  const keyboard = (action: 'take' | 'release' | 'give', to?: string) => {
    socketRef.current?.emit('keyboard', { sessionId: sidRef.current, action, to }, (r: KeyboardReply) => {
      if (!r.ok) say(r.error.message);
    });
  };

  const doPopout = () => {
    if (!sidRef.current) return;
    window.open(popoutUrl(target, sidRef.current, title), `hangar-console-${sidRef.current}`, 'popup,width=960,height=640');
  };

  const chord = isMac() ? '⌘' : 'Ctrl+Shift+';
  const kit = kitRef.current;
  const menuItems: MenuItem[] = [
    { label: 'Copy', hint: `${chord}C`, disabled: !kit?.term.hasSelection(), run: () => void kit?.copySelection() },
    {
      label: 'Paste',
      hint: `${chord}V`,
      disabled: effectiveMode !== 'interactive',
      run: () => void kit?.pasteFromClipboard().then((ok) => !ok && say(`The browser keeps the clipboard from this page: press ${chord}V.`)),
    },
    { label: 'Select all', run: () => kit?.term.selectAll() },
    { label: 'Find…', hint: `${chord}F`, run: () => setFinding(true) },
    { label: 'Download scrollback', run: download },
    { label: 'Clear view', run: () => kit?.term.clear() },
    {
      label: selectCopy ? 'Turn off select-to-copy' : 'Turn on select-to-copy',
      run: () => {
        setSelectToCopyPref(!selectCopy);
        setSelectCopy(!selectCopy);
      },
    },
    ...(popout || share ? [] : [{ label: 'Pop out', run: doPopout }]),
  ];
  const keyboardBlocked = effectiveMode === 'interactive' && presence.keyboard !== null && presence.keyboard !== presence.you;

  const dot = status === 'live' ? 'bg-emerald-500' : status === 'error' ? 'bg-red-500' : status === 'exited' ? 'bg-zinc-400' : 'bg-amber-400 animate-pulse';
  return (
    <div
      className={`relative flex flex-col overflow-hidden rounded-xl border border-zinc-300 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-950 ${className}`}
      data-testid="console"
    >
      <div
        className={`flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 px-3 py-1.5 text-xs text-zinc-600
        dark:border-zinc-800 dark:text-zinc-400`}
      >
        <span className="flex items-center gap-1.5" data-testid="console-status" data-status={status}>
          <span className={`h-2 w-2 rounded-full ${dot}`} aria-hidden="true" />
          {statusText[status]}
        </span>
        {effectiveMode === 'readonly' && <span className="rounded bg-zinc-200 px-1.5 py-0.5 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">read-only</span>}
        {recording && (
          <span className="rounded bg-red-100 px-1.5 py-0.5 text-red-700 dark:bg-red-950 dark:text-red-300" title="This session is being recorded">
            ● REC
          </span>
        )}
        {personal && (status === 'exited' || status === 'error') && (
          <button
            type="button"
            onClick={renew}
            className="rounded bg-zinc-200 px-2 py-0.5 text-zinc-800 hover:bg-zinc-300 dark:bg-zinc-800 dark:text-zinc-200 dark:hover:bg-zinc-700"
          >
            New session
          </button>
        )}
        <span className="flex items-center gap-0.5" role="toolbar" aria-label="Console tools">
          <button type="button" className={tool} onClick={() => setFinding((f) => !f)} aria-label="Find in scrollback" title={`Find (${chord}F)`}>
            Find
          </button>
          <button type="button" className={tool} onClick={() => void kit?.copySelection()} aria-label="Copy selection" title={`Copy (${chord}C)`}>
            Copy
          </button>
          <button
            type="button"
            className={tool}
            disabled={effectiveMode !== 'interactive'}
            onClick={menuItems[1].run}
            aria-label="Paste"
            title={`Paste (${chord}V)`}
          >
            Paste
          </button>
          <button type="button" className={tool} onClick={download} aria-label="Download scrollback" title="Download scrollback as text">
            Save
          </button>
          <button type="button" className={tool} onClick={() => kit?.term.clear()} aria-label="Clear view" title="Clear this view (the session keeps running)">
            Clear
          </button>
          <button type="button" className={tool} disabled={fontSize <= FONT_MIN} onClick={() => zoom(-1)} aria-label="Smaller text">
            A−
          </button>
          <button type="button" className={tool} disabled={fontSize >= FONT_MAX} onClick={() => zoom(1)} aria-label="Larger text">
            A+
          </button>
          {!popout && !share && (
            <button type="button" className={tool} onClick={doPopout} aria-label="Pop out" title="Open in its own window (same session)">
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
          <ConsolePresenceBar state={presence} interactive={effectiveMode === 'interactive'} onKeyboard={keyboard} />
        </span>
      </div>
      {finding && (
        <ConsoleSearch
          results={results}
          onFind={find}
          onClose={() => {
            setFinding(false);
            kit?.search.clearDecorations();
            kit?.term.focus();
          }}
        />
      )}
      {detail && <p className="border-b border-zinc-200 px-3 py-1.5 text-xs text-amber-700 dark:border-zinc-800 dark:text-amber-300">{detail}</p>}
      {keyboardBlocked && (
        <p className="border-b border-zinc-200 px-3 py-1 text-xs text-zinc-500 dark:text-zinc-400 dark:border-zinc-800">
          Someone else has the keyboard: you are watching until they hand it over.
        </p>
      )}
      <div ref={hostRef} className="min-h-0 flex-1 p-2" data-testid="terminal" />
      {menu && <ConsoleMenu x={menu.x} y={menu.y} items={menuItems} onClose={() => setMenu(null)} />}
      {pending && (
        <PasteConfirm
          check={pending.check}
          onCancel={() => {
            setPending(null);
            kit?.term.focus();
          }}
          onPaste={() => {
            paste(pending.text, true);
            setPending(null);
          }}
        />
      )}
    </div>
  );
}
