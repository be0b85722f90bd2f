import { io, type Socket } from 'socket.io-client';
import type { AttachReply, ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import type { ConsoleClientToServer, ConsoleServerToClient } from '@/lib/events';
import { isTerminalReport } from '@/lib/terminal-reports';
import type { TerminalKit } from '@/components/console/console-terminal';
import type { PresenceState } from '@/components/console/console-presence';
import { InputGate } from '@/components/console/input-gate';
import { OutputWriter } from '@/components/console/output-writer';

/**
 * How soon a machine's serial console is asked for again after the machine refused it (not running
 * yet). The server says `retry` the moment the machine runs; this is for when it cannot (a machine
 * on another node, a refusal for another reason).
 */
const SERIAL_RETRY_MS = 1500;
/** How soon a serial console closed by the server (its machine went down or came back) is attached again. */
const REATTACH_MS = 250;

export type ConsoleStatus = 'connecting' | 'live' | 'reconnecting' | 'exited' | 'error';
export type ConsoleSocket = Socket<ConsoleServerToClient, ConsoleClientToServer>;

export interface LinkOptions {
  target: ConsoleTarget;
  mode: ConsoleMode;
  sessionId: string;
  /** A share link's token: the socket authenticates with it instead of the session cookie. */
  share?: string;
  /** Where the terminal lives: its size follows this element. */
  host: HTMLElement;
  status(s: ConsoleStatus, detail?: string | null): void;
  presence(p: PresenceState): void;
  attached(a: { mode: ConsoleMode; recording: boolean }): void;
  /** Keys typed here (not the terminal's own replies), for broadcast typing. */
  typed(data: string): void;
  /** Lets a workspace type into this console (broadcast). */
  inputRef?: (send: ((data: string) => void) | null) => void;
}

/**
 * A terminal attached to a server-side console session over `/console`. Output carries absolute
 * offsets: on reconnect the server replays only what this view missed, and the ack of each
 * chunk (once xterm parsed it) is the flow control back to the server. Returns the socket and
 * how to let go: detach, not close (the session lives on for the next viewer or a reload).
 */
export function linkConsole(kit: TerminalKit, o: LinkOptions): { socket: ConsoleSocket; close(): void } {
  const { term, fit } = kit;
  const { sessionId, target } = o;
  let closed = false;
  let offset: number | undefined;
  const serial = target.kind === 'machine' && target.channel === 'serial';
  /** The last refusal written to the screen, and the next try after one. */
  let refusedWith: string | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  /** Replays being parsed: terminal replies to their old questions must not reach the guest. */
  let replaying = 0;
  const socket: ConsoleSocket = io('/console', { transports: ['websocket'], ...(o.share ? { auth: { share: o.share }, forceNew: true } : {}) });
  // Everything for the screen goes through one writer, in order; output is coalesced while xterm is busy.
  const out = new OutputWriter(term);
  // Keys typed before the attach is answered wait for it (the server drops input for a session not attached).
  const input = new InputGate((data) => socket.emit('input', { sessionId, data }));

  /** Write output ending at `end`, skipping what this view already shows; `done` runs once xterm parsed it. */
  const write = (end: number, data: string, done?: () => void) => {
    const start = end - data.length;
    if (offset !== undefined && end <= offset) return done?.();
    out.write(offset !== undefined && start < offset ? data.slice(offset - start) : data, done);
    offset = end;
  };
  const attach = () => {
    clearTimeout(retry);
    socket.emit('attach', { sessionId, target, mode: o.mode, cols: term.cols, rows: term.rows, since: offset }, (r: AttachReply) => {
      if (!r.ok) {
        input.drop();
        // A machine between processes (a restore stopping it to start it from the snapshot) refuses for now: its serial
        // line is asked for again until it runs, as after a restart ('closed' below). Said once, not at every try.
        if (serial && (r.error.code === 'conflict' || r.error.code === 'unavailable')) {
          if (refusedWith !== r.error.message) out.write(`\r\n\x1b[33m${r.error.message}\x1b[0m\r\n`);
          refusedWith = r.error.message;
          o.status('reconnecting', r.error.message);
          retry = setTimeout(() => !closed && socket.connected && attach(), SERIAL_RETRY_MS);
          return;
        }
        o.status('error', r.error.message);
        out.write(`\r\n\x1b[31m${r.error.message}\x1b[0m\r\n`);
        return;
      }
      refusedWith = null;
      if (r.truncated && offset !== undefined) out.write('\r\n\x1b[33m[some output was missed while disconnected]\x1b[0m\r\n');
      if (r.replay) {
        replaying++;
        write(r.offset, r.replay, () => replaying--);
      }
      offset = r.offset;
      o.attached({ mode: r.mode, recording: r.recording });
      o.status(r.exited ? 'exited' : 'live', null);
      input.opened();
    });
  };
  socket.on('connect', attach);
  socket.on('disconnect', (reason) => {
    input.closed();
    if (closed) return;
    // The server let go of us on purpose (the session ended, the access changed): no retrying.
    if (reason === 'io server disconnect')
      return o.status('error', 'The server closed this console: your session ended or your access changed. Reload the page.');
    o.status('reconnecting');
  });
  socket.on('connect_error', (err) => o.status('reconnecting', err.message));
  socket.on('output', (msg, ack) => {
    if (msg.sessionId !== sessionId) return;
    write(msg.offset, msg.data, ack);
  });
  // The machine that refused us runs now (see SERIAL_RETRY_MS).
  socket.on('retry', (m) => m.sessionId === sessionId && serial && !closed && refusedWith !== null && attach());
  socket.on('exit', (m) => m.sessionId === sessionId && o.status('exited'));
  socket.on('viewers', (m) => m.sessionId === sessionId && o.presence({ viewers: m.viewers, keyboard: m.keyboard, you: m.you }));
  socket.on('closed', (m) => {
    if (m.sessionId !== sessionId) return;
    if (serial && !closed) {
      // The machine went down (a restart, a restore): its console comes back as a new session.
      o.status('reconnecting', m.reason);
      input.closed();
      offset = undefined;
      out.drop();
      term.reset();
      clearTimeout(retry);
      retry = setTimeout(() => !closed && attach(), REATTACH_MS);
      return;
    }
    o.status('error', m.reason);
  });
  const send = (data: string) => input.send(data);
  o.inputRef?.(send);
  const onData = term.onData((data) => {
    if (replaying > 0 && isTerminalReport(data)) return;
    send(data);
    if (!isTerminalReport(data)) o.typed(data);
  });
  const ro = new ResizeObserver(() => {
    fit.fit();
    if (socket.connected) socket.emit('resize', { sessionId, cols: term.cols, rows: term.rows });
  });
  ro.observe(o.host);
  return {
    socket,
    close() {
      closed = true;
      clearTimeout(retry);
      ro.disconnect();
      onData.dispose();
      input.drop();
      o.inputRef?.(null);
      socket.emit('detach', { sessionId });
      socket.disconnect();
      out.dispose();
    },
  };
}
