import type { Namespace, Server } from 'socket.io';
import type { EventsClientToServer, EventsServerToClient } from '@/lib/events';
import type { Core } from '@/server/core/hangar';
import { hasRole } from '@/lib/roles';
import { socketAuth, type SocketData } from './auth';

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
    void socket.join(userRoom(p.user.id));
    if (hasRole(p.role, 'admin')) void socket.join(ADMINS);
    if (hasRole(p.role, 'viewer')) void socket.join(SEERS);
    // A grant given or taken later disconnects the member's sockets: they come back with fresh rooms.
    else for (const id of await core.grants.machineIdsOf(p.user.id)) void socket.join(machineRoom(id));
  });
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
  ];
  return () => offs.forEach((off) => off());
}
