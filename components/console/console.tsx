'use client';

import '@xterm/xterm/css/xterm.css';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConsoleMode, ConsoleTarget, KeyboardReply } from '@/lib/contracts/console';
import { checkPaste, type PasteCheck } from '@/lib/console-text';
import { isMac, selectToCopyPref, setFontSizePref, setSelectToCopyPref } from '@/components/console/console-prefs';
import { ConsoleMenu, ConsoleSearch, PasteConfirm, type MenuItem } from '@/components/console/console-parts';
import type { PresenceState } from '@/components/console/console-presence';
import { ConsoleToolbar } from '@/components/console/console-toolbar';
import { consoleSessionId, forgetConsoleSessionId } from '@/components/console/console-session-id';
import { createTerminal, downloadText, type TerminalKit } from '@/components/console/console-terminal';
import { linkConsole, type ConsoleSocket, type ConsoleStatus } from '@/components/console/console-link';

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
  const socketRef = useRef<ConsoleSocket | null>(null);
  const sidRef = useRef<string>('');
  const modeRef = useRef<ConsoleMode>(mode);
  const typedRef = useRef(onTyped);
  typedRef.current = onTyped;
  // Read when the terminal attaches (a ref: a later change must not reconnect the session).
  const autoFocusRef = useRef(autoFocus);
  autoFocusRef.current = autoFocus;
  const [status, setStatus] = useState<ConsoleStatus>('connecting');
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
      const link = linkConsole(kit, {
        target,
        mode,
        sessionId,
        share,
        host: hostRef.current!,
        status: (st, d) => {
          setStatus(st);
          if (d !== undefined) setDetail(d);
        },
        presence: setPresence,
        attached: (a) => {
          modeRef.current = a.mode;
          setEffectiveMode(a.mode);
          setRecording(a.recording);
        },
        typed: (data) => typedRef.current?.(data),
        inputRef,
      });
      socketRef.current = link.socket;
      if (!onTyped && autoFocusRef.current) term.focus();
      cleanup = () => {
        resultsSub.dispose();
        // Detach, not close: the session lives on in the server for the next viewer or a reload.
        link.close();
        socketRef.current = null;
        kitRef.current = null;
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

  return (
    <div
      className={`relative flex flex-col overflow-hidden rounded-xl border border-zinc-300 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-950 ${className}`}
      data-testid="console"
    >
      <ConsoleToolbar
        status={status}
        mode={effectiveMode}
        recording={recording}
        canRenew={personal && (status === 'exited' || status === 'error')}
        onRenew={renew}
        chord={chord}
        onFind={() => setFinding((f) => !f)}
        onCopy={() => void kit?.copySelection()}
        onPaste={menuItems[1].run}
        onDownload={download}
        onClear={() => kit?.term.clear()}
        fontSize={fontSize}
        onZoom={zoom}
        onPopout={popout || share ? null : doPopout}
        flash={flash}
        presence={presence}
        onKeyboard={keyboard}
      />
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
