'use client';

import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { AttachReply, ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import type { ConsoleClientToServer, ConsoleServerToClient } from '@/lib/events';
import { isTerminalReport } from '@/lib/terminal-reports';
import { consoleSessionId, forgetConsoleSessionId, preferredRenderer } from './console-session-id';

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
}

/**
 * An xterm.js terminal attached to a server-side console session over `/console`. Output
 * carries absolute offsets: on reconnect the server replays only what this view missed.
 */
export function Console({ target, sessionKey, mode = 'interactive', className = '', share }: ConsoleProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>('connecting');
  const [detail, setDetail] = useState<string | null>(null);
  const [viewers, setViewers] = useState(1);
  const [effectiveMode, setEffectiveMode] = useState<ConsoleMode>(mode);
  /** Bumped by "New session": a fresh id, so the server opens a new shell. */
  const [generation, setGeneration] = useState(0);
  const targetKey = JSON.stringify(target);
  const personal = target.kind === 'host-shell' || target.channel === 'ssh';

  useEffect(() => {
    let disposed = false;
    let cleanup = () => undefined as void;
    (async () => {
      // xterm touches `window` at import time: load it only in the browser.
      const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !hostRef.current) return;
      const term = new Terminal({
        cursorBlink: true,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
        fontSize: 13,
        scrollback: 10_000,
        allowProposedApi: false,
        // Matches the frame (zinc-950) in both themes: terminals read best dark.
        theme: { background: '#09090b', foreground: '#e4e4e7', cursor: '#38bdf8', selectionBackground: '#0ea5e955' },
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(hostRef.current);
      if (preferredRenderer() === 'webgl') {
        try {
          const { WebglAddon } = await import('@xterm/addon-webgl');
          const webgl = new WebglAddon();
          webgl.onContextLoss(() => webgl.dispose());
          term.loadAddon(webgl);
        } catch {
          // No WebGL here (no GPU, or disabled): the DOM renderer carries on.
        }
      }
      fit.fit();
      const sessionId = consoleSessionId(sessionKey);
      let offset: number | undefined;
      /** Replays being parsed: terminal replies to their old questions must not reach the guest. */
      let replaying = 0;
      const socket: Socket<ConsoleServerToClient, ConsoleClientToServer> = io('/console', { transports: ['websocket'], ...(share ? { auth: { share }, forceNew: true } : {}) });

      /** Write output ending at `end`, skipping what this view already shows; `done` runs once xterm parsed it. */
      const write = (end: number, data: string, done?: () => void) => {
        const start = end - data.length;
        if (offset !== undefined && end <= offset) return done?.();
        term.write(offset !== undefined && start < offset ? data.slice(offset - start) : data, done);
        offset = end;
      };
      const attach = () => {
        socket.emit('attach', { sessionId, target, mode, cols: term.cols, rows: term.rows, since: offset }, (r: AttachReply) => {
          if (!r.ok) {
            setStatus('error');
            setDetail(r.error.message);
            term.write(`\r\n\x1b[31m${r.error.message}\x1b[0m\r\n`);
            return;
          }
          if (r.truncated && offset !== undefined) term.write('\r\n\x1b[33m[some output was missed while disconnected]\x1b[0m\r\n');
          if (r.replay) {
            replaying++;
            write(r.offset, r.replay, () => replaying--);
          }
          offset = r.offset;
          setEffectiveMode(r.mode);
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
      socket.on('viewers', (m) => m.sessionId === sessionId && setViewers(m.count));
      socket.on('closed', (m) => {
        if (m.sessionId !== sessionId) return;
        if (target.kind === 'machine' && target.channel === 'serial' && !disposed) {
          // The machine went down (a restart, a restore): its console comes back as a new session.
          setStatus('reconnecting');
          setDetail(m.reason);
          offset = undefined;
          term.reset();
          setTimeout(() => !disposed && attach(), 1500);
          return;
        }
        setStatus('error');
        setDetail(m.reason);
      });
      const onData = term.onData((data) => {
        if (replaying > 0 && isTerminalReport(data)) return;
        socket.emit('input', { sessionId, data });
      });
      const sendSize = () => {
        fit.fit();
        if (socket.connected) socket.emit('resize', { sessionId, cols: term.cols, rows: term.rows });
      };
      const ro = new ResizeObserver(() => sendSize());
      ro.observe(hostRef.current);
      term.focus();
      cleanup = () => {
        ro.disconnect();
        onData.dispose();
        // Detach, not close: the session lives on in the server for the next viewer or a reload.
        socket.emit('detach', { sessionId });
        socket.disconnect();
        term.dispose();
      };
    })();
    return () => {
      disposed = true;
      cleanup();
    };
    // targetKey stands for `target` (a fresh object each render).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [targetKey, sessionKey, mode, generation, share]);

  const renew = () => {
    forgetConsoleSessionId(sessionKey);
    setStatus('connecting');
    setDetail(null);
    setGeneration((g) => g + 1);
  };

  const dot = status === 'live' ? 'bg-emerald-500' : status === 'error' ? 'bg-red-500' : status === 'exited' ? 'bg-zinc-400' : 'bg-amber-400 animate-pulse';
  return (
    <div className={`flex flex-col overflow-hidden rounded-xl border border-zinc-800 bg-zinc-950 ${className}`}>
      <div className="flex items-center gap-3 border-b border-zinc-800 px-3 py-1.5 text-xs text-zinc-400">
        <span className="flex items-center gap-1.5" data-testid="console-status" data-status={status}>
          <span className={`h-2 w-2 rounded-full ${dot}`} aria-hidden="true" />
          {statusText[status]}
        </span>
        {effectiveMode === 'readonly' && <span className="rounded bg-zinc-800 px-1.5 py-0.5 text-zinc-300">read-only</span>}
        {personal && (status === 'exited' || status === 'error') && (
          <button type="button" onClick={renew} className="rounded bg-zinc-800 px-2 py-0.5 text-zinc-200 hover:bg-zinc-700">
            New session
          </button>
        )}
        <span className="ml-auto" title="People viewing this console">
          {viewers} {viewers === 1 ? 'viewer' : 'viewers'}
        </span>
      </div>
      {detail && <p className="border-b border-zinc-800 px-3 py-1.5 text-xs text-amber-300">{detail}</p>}
      <div ref={hostRef} className="min-h-0 flex-1 p-2" data-testid="terminal" />
    </div>
  );
}
