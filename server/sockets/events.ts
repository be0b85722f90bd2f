import type { Namespace, Server } from 'socket.io';
import type { EventsClientToServer, EventsServerToClient } from '@/lib/events';
import type { MachineStatsTick } from '@/lib/contracts/stats';
import type { Core } from '@/server/core/hangar';
import { hasRole } from '@/lib/roles';
import { statsWatchSchema } from '@/lib/contracts/stats';
import { socketAuth, type SocketData } from './auth';
import { othersThere } from './cluster-relay';

const ADMINS = 'admins';
/** Everyone who sees every machine (viewer and up); a member is in the rooms of their machines. */
const SEERS = 'seers';
const userRoom = (id: string) => `user:${id}`;
const machineRoom = (id: string) => `machine:${id}`;

/** `/events`: job and machine changes. A job goes to its owner and to admins, like GET /api/jobs; a machine to those who may see it. */
export function mountEvents(io: Server, core: Core): () => void {
  // socket.io types one event map per Server; each namespace here has its own, hence the cast.
  const nsp = io.of('/events') as unknown as Namespace<EventsClientToServer, EventsServerToClient, Record<string, never>, SocketData>;
  nsp.use(socketAuth(core));
  nsp.on('connection', async (socket) => {
    const p = socket.data.principal;
    // One watched machine page per socket: its guest-side figures are sampled while it is open.
    // Listening before the rooms are joined (a member's take a query): an ask sent on connect is not lost.
    let unwatch: (() => void) | null = null;
    let asked = 0;
    socket.on('stats:watch', async (msg) => {
      // A later ask (or a disconnect) while this one checks access wins.
      const mine = ++asked;
      unwatch?.();
      unwatch = null;
      const parsed = statsWatchSchema.safeParse(msg);
      if (!parsed.success || !parsed.data.machineId) return;
      const id = parsed.data.machineId;
      const sees = hasRole(p.role, 'viewer')
        ? await core.machines.get(p, id).then(
            () => true,
            () => false,
          )
        : !!(await core.grants.grantOn(p, id).catch(() => null));
      if (!sees) return;
      if (mine === asked && socket.connected) unwatch = core.stats.watch(id);
    });
    socket.on('disconnect', () => unwatch?.());
    void socket.join(userRoom(p.user.id));
    if (hasRole(p.role, 'admin')) void socket.join(ADMINS);
    if (hasRole(p.role, 'viewer')) void socket.join(SEERS);
    // A grant given or taken later disconnects the member's sockets: they come back with fresh rooms.
    else for (const id of await core.grants.machineIdsOf(p.user.id)) void socket.join(machineRoom(id));
  });
  /** A tick to this node's sockets: seers get it whole; members the machines given to them, one message each (their sockets are in those rooms only). */
  const statsHere = (tick: MachineStatsTick) => {
    nsp.local.to(SEERS).emit('stats:machines', tick);
    for (const item of tick.items)
      nsp.local
        .to(machineRoom(item.id))
        .except(SEERS)
        .emit('stats:machines', { t: tick.t, items: [item] });
  };
  if (core.cluster.enabled) (nsp as unknown as Namespace).on('stats:machines', statsHere);
  // Sample only while someone is here to see it.
  core.stats.audience = () => nsp.sockets.size > 0;
  const rooms = (ownerId: string | null) => (ownerId ? [ADMINS, userRoom(ownerId)] : [ADMINS]);
  const offs = [
    core.bus.subscribe('job:update', (job) => nsp.to(rooms(job.ownerId)).emit('job:update', job)),
    core.bus.subscribe('job:log', (msg) => {
      const owner = core.jobRunner.ownerOf(msg.jobId);
      nsp.to(rooms(owner)).emit('job:log', msg);
    }),
    core.bus.subscribe('machine:update', (m) => nsp.to([SEERS, machineRoom(m.id)]).emit('machine:update', m)),
    core.bus.subscribe('machine:removed', (m) => nsp.to([SEERS, machineRoom(m.id)]).emit('machine:removed', m)),
    core.bus.subscribe('image:update', (i) => nsp.to(SEERS).emit('image:update', i)),
    core.bus.subscribe('image:removed', (i) => nsp.to(SEERS).emit('image:removed', i)),
    core.bus.subscribe('snapshots:changed', (m) => nsp.to(SEERS).emit('snapshots:changed', m)),
    core.bus.subscribe('steps:changed', (m) => nsp.to(SEERS).emit('steps:changed', m)),
    // Every node tells its own browsers of node changes and of its host; the rest reaches every node's (cluster-relay.ts).
    core.bus.subscribe('node:update', (n) => nsp.local.to(SEERS).emit('node:update', n)),
    core.bus.subscribe('stats:machines', (tick) => {
      statsHere(tick);
      // A cluster: the tick goes to the other nodes once, server to server, and each hands it out there.
      if (core.cluster.enabled && othersThere(nsp.adapter, core.cluster)) (nsp as unknown as Namespace).serverSideEmit('stats:machines', tick);
    }),
    core.bus.subscribe('stats:host', (tick) => nsp.local.to(SEERS).emit('stats:host', tick)),
  ];
  return () => offs.forEach((off) => off());
}
