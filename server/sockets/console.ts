import type { Namespace, Server, Socket } from 'socket.io';
import {
  attachRequestSchema,
  detachSchema,
  inputSchema,
  keyboardRequestSchema,
  resizeSchema,
  type AttachReply,
  type KeyboardReply,
} from '@/lib/contracts/console';
import type { ConsoleClientToServer, ConsoleServerToClient } from '@/lib/events';
import type { Core } from '@/server/core/hangar';
import type { ConsoleSession, ViewerSink } from '@/server/core/console/session';
import { errorToResponse } from '@/server/transport/errors';
import { socketAuth, type SocketData } from './auth';

type ConsoleSocket = Socket<ConsoleClientToServer, ConsoleServerToClient, Record<string, never>, SocketData>;

/** One viewer = one socket attached under one client-made session id. */
const viewerIdOf = (socket: ConsoleSocket, sessionId: string) => `${socket.id}:${sessionId}`;

function sinkFor(socket: ConsoleSocket, sessionId: string): ViewerSink {
  return {
    id: viewerIdOf(socket, sessionId),
    output: (offset, data, ack) => socket.emit('output', { sessionId, offset, data }, ack),
    exit: (code) => socket.emit('exit', { sessionId, code }),
    viewers: (viewers, keyboard, you) => socket.emit('viewers', { sessionId, count: viewers.length, viewers, keyboard, you }),
    closed: (reason) => socket.emit('closed', { sessionId, reason }),
  };
}

/** `/console`: attach to console sessions, type, resize. Every payload is parsed; read-only is enforced in the session. */
export function mountConsole(io: Server, core: Core): void {
  // socket.io types one event map per Server; each namespace here has its own, hence the cast.
  const nsp = io.of('/console') as unknown as Namespace<ConsoleClientToServer, ConsoleServerToClient, Record<string, never>, SocketData>;
  nsp.use(socketAuth(core, { share: true }));
  nsp.on('connection', (socket: ConsoleSocket) => {
    // This socket's sessions by the client's id (a machine console is shared under another key).
    const attached = new Map<string, ConsoleSession>();
    const viewerId = (sessionId: string) => viewerIdOf(socket, sessionId);

    socket.on('attach', async (raw, reply) => {
      const respond = typeof reply === 'function' ? reply : () => undefined;
      const parsed = attachRequestSchema.safeParse(raw);
      if (!parsed.success)
        return respond({
          ok: false,
          error: { code: 'validation_failed', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') },
        });
      const req = parsed.data;
      try {
        attached.get(req.sessionId)?.detach(viewerId(req.sessionId));
        attached.delete(req.sessionId);
        const a = await core.consoles.attach(socket.data.principal, sinkFor(socket, req.sessionId), req);
        attached.set(req.sessionId, a.session);
        const ip = socket.handshake.address;
        void core.audit.record(socket.data.principal, {
          action: 'console.attach',
          target: { kind: 'console', id: req.sessionId },
          ip,
          detail: { target: req.target, mode: a.mode },
        });
        const r: AttachReply = {
          ok: true,
          sessionId: req.sessionId,
          mode: a.mode,
          offset: a.offset,
          replay: a.replay,
          truncated: a.truncated,
          exited: a.session.exited,
          recording: a.session.recording,
        };
        respond(r);
      } catch (err) {
        const { body } = errorToResponse(err);
        respond({ ok: false, error: { code: body.error.code, message: body.error.message } });
      }
    });

    socket.on('input', (raw) => {
      const m = inputSchema.safeParse(raw);
      if (m.success) attached.get(m.data.sessionId)?.input(viewerId(m.data.sessionId), m.data.data);
    });

    socket.on('resize', (raw) => {
      const m = resizeSchema.safeParse(raw);
      if (m.success) attached.get(m.data.sessionId)?.resize(viewerId(m.data.sessionId), m.data.cols, m.data.rows);
    });

    socket.on('keyboard', (raw, reply) => {
      const respond: (r: KeyboardReply) => void = typeof reply === 'function' ? reply : () => undefined;
      const m = keyboardRequestSchema.safeParse(raw);
      if (!m.success)
        return respond({ ok: false, error: { code: 'validation_failed', message: m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      const session = attached.get(m.data.sessionId);
      if (!session) return respond({ ok: false, error: { code: 'not_found', message: 'Attach to this console first.' } });
      const why = session.keyboardAction(viewerId(m.data.sessionId), m.data.action, m.data.to);
      if (why) return respond({ ok: false, error: { code: 'conflict', message: why } });
      void core.audit.record(socket.data.principal, {
        action: `console.keyboard.${m.data.action}`,
        target: { kind: 'console', id: m.data.sessionId },
        ip: socket.handshake.address,
        detail: m.data.to ? { to: m.data.to } : undefined,
      });
      respond({ ok: true });
    });

    socket.on('detach', (raw) => {
      const m = detachSchema.safeParse(raw);
      if (!m.success) return;
      attached.get(m.data.sessionId)?.detach(viewerId(m.data.sessionId));
      attached.delete(m.data.sessionId);
    });

    socket.on('disconnect', () => {
      for (const [id, session] of attached) session.detach(viewerId(id));
      attached.clear();
    });
  });
}
