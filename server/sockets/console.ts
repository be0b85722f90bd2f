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
import { MachineNotRunningError, type AttachParams } from '@/server/core/console/registry';
import { ConflictError } from '@/server/core/errors';
import { errorToResponse } from '@/server/transport/errors';
import { socketAuth, type SocketData } from './auth';
import { ConsoleRelays, mountRelayNamespace } from './console-relay';

type ConsoleSocket = Socket<ConsoleClientToServer, ConsoleServerToClient, Record<string, never>, SocketData>;

/** Refused serial consoles one socket may wait on (see serveConsole's `waiting`); more are left to the client's own tries. */
const MAX_WAITING = 16;

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

/** `/console`: attach to console sessions, type, resize. Every payload is parsed; read-only is enforced in the session. Returns its unmount. */
export function mountConsole(io: Server, core: Core): () => void {
  // socket.io types one event map per Server; each namespace here has its own, hence the cast.
  const nsp = io.of('/console') as unknown as Namespace<ConsoleClientToServer, ConsoleServerToClient, Record<string, never>, SocketData>;
  nsp.use(socketAuth(core, { share: true }));
  if (!core.cluster.enabled) {
    nsp.on('connection', (socket: ConsoleSocket) => serveConsole(socket, core, null));
    return () => undefined;
  }
  // A cluster: a console on another node's machine is relayed there (console-relay.ts); the other nodes relay theirs here.
  const relaying = new Set<ConsoleRelays>();
  nsp.on('connection', (socket: ConsoleSocket) => {
    const relays = new ConsoleRelays(core, socket.data.principal, socket.handshake.address ?? null, socket);
    relaying.add(relays);
    socket.on('disconnect', () => {
      relaying.delete(relays);
      relays.close();
    });
    serveConsole(socket, core, relays);
  });
  mountRelayNamespace(io, core, (socket) => serveConsole(socket as unknown as ConsoleSocket, core, null));
  // A node whose heartbeat stopped: its consoles close now, not when their connections time out.
  const off = core.bus.subscribe('node:update', (n) => {
    if (n.online && !n.removed) return;
    const why = n.removed ? `node ${n.name} was removed from the cluster` : `node ${n.name} is offline (its heartbeat stopped)`;
    for (const r of relaying) r.nodeOffline(n.id, why);
  });
  return off;
}

/**
 * One console socket's messages. `relays`: the sessions of machines that another node runs go
 * there (a browser's socket in a cluster); null: everything is served here, and a machine that
 * is not here is refused (another node's relay, which must not relay on; or one node).
 */
function serveConsole(socket: ConsoleSocket, core: Core, relays: ConsoleRelays | null): void {
  // This socket's sessions by the client's id (a machine console is shared under another key).
  const attached = new Map<string, ConsoleSession>();
  const viewerId = (sessionId: string) => viewerIdOf(socket, sessionId);
  const p = socket.data.principal;
  // A relayed socket: the client's address as the first node saw it.
  const ip = p.forwarded ? p.forwarded.ip : socket.handshake.address;
  /**
   * Sessions refused a machine's serial console here because the machine was not running (stopped,
   * or between processes in a restore): told `retry` the moment it runs, so the console is back as
   * soon as the machine is, not at the client's next try.
   */
  const waiting = new Map<string, () => void>();
  const stopWaiting = (sessionId: string) => {
    waiting.get(sessionId)?.();
    waiting.delete(sessionId);
  };
  const waitForRunning = (sessionId: string, machineId: string) => {
    // One waiter per session (overlapping attaches), none for a socket that left while its attach was answered.
    stopWaiting(sessionId);
    if (!socket.connected || waiting.size >= MAX_WAITING) return;
    const off = core.consoles.whenRunning(machineId, () => {
      waiting.delete(sessionId);
      socket.emit('retry', { sessionId });
    });
    waiting.set(sessionId, off);
  };

  /** The node that runs a machine target, when it is not this one. */
  const elsewhere = async (target: AttachParams['target']): Promise<string | null> => {
    if (!core.cluster.enabled || target.kind !== 'machine') return null;
    const node = (await core.machines.listing.one(target.machineId))?.machine.node;
    return node && !core.cluster.isLocal(node.id) ? node.id : null;
  };

  socket.on('attach', async (raw, reply) => {
    const respond = typeof reply === 'function' ? reply : () => undefined;
    const parsed = attachRequestSchema.safeParse(raw);
    if (!parsed.success)
      return respond({
        ok: false,
        error: { code: 'validation_failed', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') },
      });
    const req = parsed.data;
    stopWaiting(req.sessionId);
    try {
      attached.get(req.sessionId)?.detach(viewerId(req.sessionId));
      attached.delete(req.sessionId);
      relays?.detach(req.sessionId);
      const owner = await elsewhere(req.target);
      if (owner) {
        if (!relays) throw new ConflictError('This machine is not on the node the console was relayed to (it moved): open it again.');
        // The owner authorizes, audits and decides the mode, for this caller.
        return respond(await relays.attach(owner, req));
      }
      const a = await core.consoles.attach(p, sinkFor(socket, req.sessionId), req);
      attached.set(req.sessionId, a.session);
      void core.audit.record(p, {
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
      // Only a serial console is refused so (an SSH shell is refused before, as a conflict of its own).
      if (err instanceof MachineNotRunningError) waitForRunning(req.sessionId, err.machineId);
      respond({ ok: false, error: { code: body.error.code, message: body.error.message } });
    }
  });

  socket.on('input', (raw) => {
    const m = inputSchema.safeParse(raw);
    if (!m.success) return;
    if (relays?.has(m.data.sessionId)) relays.input(m.data);
    else attached.get(m.data.sessionId)?.input(viewerId(m.data.sessionId), m.data.data);
  });

  socket.on('resize', (raw) => {
    const m = resizeSchema.safeParse(raw);
    if (!m.success) return;
    if (relays?.has(m.data.sessionId)) relays.resize(m.data);
    else attached.get(m.data.sessionId)?.resize(viewerId(m.data.sessionId), m.data.cols, m.data.rows);
  });

  socket.on('keyboard', async (raw, reply) => {
    const respond: (r: KeyboardReply) => void = typeof reply === 'function' ? reply : () => undefined;
    const m = keyboardRequestSchema.safeParse(raw);
    if (!m.success)
      return respond({ ok: false, error: { code: 'validation_failed', message: m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    if (relays?.has(m.data.sessionId)) return respond(await relays.keyboard(m.data));
    const session = attached.get(m.data.sessionId);
    if (!session) return respond({ ok: false, error: { code: 'not_found', message: 'Attach to this console first.' } });
    const why = session.keyboardAction(viewerId(m.data.sessionId), m.data.action, m.data.to);
    if (why) return respond({ ok: false, error: { code: 'conflict', message: why } });
    void core.audit.record(p, {
      action: `console.keyboard.${m.data.action}`,
      target: { kind: 'console', id: m.data.sessionId },
      ip,
      detail: m.data.to ? { to: m.data.to } : undefined,
    });
    respond({ ok: true });
  });

  socket.on('detach', (raw) => {
    const m = detachSchema.safeParse(raw);
    if (!m.success) return;
    stopWaiting(m.data.sessionId);
    relays?.detach(m.data.sessionId);
    attached.get(m.data.sessionId)?.detach(viewerId(m.data.sessionId));
    attached.delete(m.data.sessionId);
  });

  socket.on('disconnect', () => {
    for (const id of [...waiting.keys()]) stopWaiting(id);
    for (const [id, session] of attached) session.detach(viewerId(id));
    attached.clear();
  });
}
