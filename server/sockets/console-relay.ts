import type { Namespace, Server, Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import type { AttachReply, ConsoleExit, ConsoleOutput, ConsoleViewers, KeyboardReply } from '@/lib/contracts/console';
import type { Principal } from '@/server/core/auth';
import type { Core } from '@/server/core/hangar';
import { NODE_HEADERS } from '@/server/core/cluster/cluster';
import { encodeForwarded } from '@/server/core/cluster/forward';
import { admit } from './auth';
import { RELAY_NSP } from './relay-nsp';

export { RELAY_NSP };

/** What the relay's signature covers in place of an HTTP method and path. */
const RELAY_METHOD = 'SOCKET';

type Auth = Record<string, unknown>;
const headerOf = (auth: Auth) => (name: string) => (typeof auth[name] === 'string' ? (auth[name] as string) : undefined);

/** The owner's side: the calling node's signature is checked and the user it vouches for becomes the socket's principal (role re-read here). */
export function relayAuth(core: Core) {
  return async (socket: Socket, next: (err?: Error) => void) => {
    try {
      const auth = (socket.handshake.auth ?? {}) as Auth;
      const header = headerOf(auth);
      const node = header(NODE_HEADERS.node);
      const principal = header(NODE_HEADERS.forwarded);
      const p = node && principal ? await core.auth.authenticate({ forwarded: { node, principal, method: RELAY_METHOD, path: RELAY_NSP, header } }) : null;
      if (!p) return next(new Error('unauthorized: only the nodes of this cluster may relay consoles'));
      admit(socket, p, { share: true }, next);
    } catch (err) {
      next(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

/** Mount the relay namespace (a cluster only): its sockets are served like /console's, but never relayed on. */
export function mountRelayNamespace(io: Server, core: Core, serve: (socket: Socket) => void): void {
  const nsp = io.of(RELAY_NSP) as unknown as Namespace;
  nsp.use(relayAuth(core));
  nsp.on('connection', serve);
}

/** What the browser's socket is told (the /console server-to-client events). */
interface Browser {
  emit(ev: 'output', msg: ConsoleOutput, ack: () => void): void;
  emit(ev: 'exit', msg: ConsoleExit): void;
  emit(ev: 'viewers', msg: ConsoleViewers): void;
  emit(ev: 'closed', msg: { sessionId: string; reason: string }): void;
  emit(ev: 'retry', msg: { sessionId: string }): void;
}

/** One connection to one node, for one browser socket: its sessions there go through it. */
interface Link {
  nodeId: string;
  name: string;
  socket: ClientSocket;
  /** Resolves once connected; rejects with why it could not. */
  ready: Promise<void>;
  /** Replies awaited from the node: a node that goes away fails them at once. */
  waiting: Set<(why: string) => void>;
  gone: string | null;
}

/**
 * A browser socket's consoles on other nodes. The first attach to a machine of node B opens a
 * socket.io connection to B's internal URL, signed by this node for this socket's user; every
 * session of that browser on B goes through it, by the browser's own session ids. The node
 * authorizes, decides the mode and drops a read-only viewer's keys; this side only carries
 * messages both ways (output acknowledged end to end: the browser's ack is the node's).
 */
export class ConsoleRelays {
  private readonly links = new Map<string, Link>();
  private readonly sessions = new Map<string, Link>();

  constructor(
    private readonly core: Core,
    private readonly principal: Principal,
    private readonly ip: string | null,
    private readonly browser: Browser,
  ) {}

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  async attach(nodeId: string, req: { sessionId: string } & Record<string, unknown>): Promise<AttachReply> {
    this.detach(req.sessionId);
    let link: Link;
    try {
      link = this.link(nodeId);
      await link.ready;
    } catch (err) {
      return { ok: false, error: { code: 'unavailable', message: err instanceof Error ? err.message : String(err) } };
    }
    // Its own before the answer: the node announces who watches, and may send output, before it replies.
    this.sessions.set(req.sessionId, link);
    const reply = await this.ask<AttachReply>(link, 'attach', req);
    if (!reply.ok && this.sessions.get(req.sessionId) === link) this.sessions.delete(req.sessionId);
    return reply;
  }

  input(msg: { sessionId: string }): void {
    this.sessions.get(msg.sessionId)?.socket.emit('input', msg);
  }

  resize(msg: { sessionId: string }): void {
    this.sessions.get(msg.sessionId)?.socket.emit('resize', msg);
  }

  keyboard(msg: { sessionId: string }): Promise<KeyboardReply> {
    const link = this.sessions.get(msg.sessionId)!;
    return this.ask<KeyboardReply>(link, 'keyboard', msg);
  }

  detach(sessionId: string): void {
    const link = this.sessions.get(sessionId);
    if (!link) return;
    this.sessions.delete(sessionId);
    link.socket.emit('detach', { sessionId });
  }

  /** The browser left: every connection closes (the node detaches its viewers). */
  close(): void {
    for (const link of this.links.values()) this.drop(link, null);
  }

  /** Node `nodeId` is offline (its heartbeat stopped): its sessions close with that reason, without waiting for the connection to time out. */
  nodeOffline(nodeId: string, reason: string): void {
    const link = this.links.get(nodeId);
    if (link) this.drop(link, reason);
  }

  private ask<T extends { ok: boolean }>(link: Link, ev: 'attach' | 'keyboard', msg: unknown): Promise<T> {
    return new Promise<T>((resolve) => {
      const fail = (why: string) => resolve({ ok: false, error: { code: 'unavailable', message: why } } as unknown as T);
      if (link.gone) return fail(link.gone);
      link.waiting.add(fail);
      link.socket.emit(ev, msg, (r: T) => {
        link.waiting.delete(fail);
        resolve(r);
      });
    });
  }

  private link(nodeId: string): Link {
    const open = this.links.get(nodeId);
    if (open) return open;
    const node = this.core.cluster.requireOnline(nodeId);
    const forwarded = encodeForwarded(this.principal, this.ip);
    const socket = connect(`${node.url.replace(/\/+$/, '')}${RELAY_NSP}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      // Signed afresh for each handshake (a signature is good once).
      auth: (cb) => cb(this.core.cluster.sign(RELAY_METHOD, RELAY_NSP, forwarded)),
    });
    const link: Link = { nodeId, name: node.name, socket, ready: Promise.resolve(), waiting: new Set(), gone: null };
    link.ready = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => {
        const why = `node ${node.name} could not be reached for this console (${err.message})`;
        this.drop(link, why);
        reject(new Error(why));
      });
    });
    // Unhandled if nobody awaits it (a drop before the first attach awaited it).
    link.ready.catch(() => undefined);
    const mine = (sessionId: string) => this.sessions.get(sessionId) === link;
    socket.on('output', (msg: ConsoleOutput, ack: () => void) => (mine(msg.sessionId) ? this.browser.emit('output', msg, ack) : ack()));
    socket.on('exit', (msg: ConsoleExit) => mine(msg.sessionId) && this.browser.emit('exit', msg));
    socket.on('viewers', (msg: ConsoleViewers) => mine(msg.sessionId) && this.browser.emit('viewers', msg));
    // A session the node refused (its machine not running) is attached nowhere: the node says when to try again.
    socket.on('retry', (msg: { sessionId: string }) => !this.sessions.has(msg.sessionId) && this.browser.emit('retry', msg));
    socket.on('closed', (msg: { sessionId: string; reason: string }) => {
      if (!mine(msg.sessionId)) return;
      this.sessions.delete(msg.sessionId);
      this.browser.emit('closed', msg);
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return;
      // The node hung up (it is shutting down, or this user's session or link ended there), or the connection was lost.
      const why = reason === 'io server disconnect' ? `node ${node.name} closed the console's connection` : `node ${node.name} went away (${reason})`;
      this.drop(link, why);
    });
    this.links.set(nodeId, link);
    return link;
  }

  /** Close a connection; with a reason, its browser sessions are told it (null: the browser itself left). */
  private drop(link: Link, reason: string | null): void {
    if (this.links.get(link.nodeId) === link) this.links.delete(link.nodeId);
    if (link.gone) return;
    link.gone = reason ?? 'the console was closed';
    for (const fail of link.waiting) fail(link.gone);
    link.waiting.clear();
    for (const [sessionId, l] of [...this.sessions]) {
      if (l !== link) continue;
      this.sessions.delete(sessionId);
      if (reason) this.browser.emit('closed', { sessionId, reason });
    }
    link.socket.removeAllListeners();
    link.socket.close();
  }
}
