import { randomBytes } from 'node:crypto';
import type { OpenedFork } from '@/lib/contracts/fork-links';
import {
  findForkLinkByHash,
  forkByShare,
  insertForkLinkFork,
  releaseForkSlot,
  reserveForkSlot,
  updateForkLinkFork,
  type ForkLinkRow,
} from '@/db/repo/fork-links';
import { getMachineRow } from '@/db/repo/machines';
import { hashSecret, type AuthService, type ClientMeta } from '../auth';
import { ConflictError, HangarError } from '../errors';
import { newId } from '../ids';
import { FORK_LINK_PREFIX, settled, type ForkLinkService } from './service';

/** The cookie that brings a browser back to its fork: one per link, holding the fork's console credential. */
export const forkCookieName = (linkId: string): string => `hangar_fork_${linkId}`;

type LinkState = 'unknown' | 'expired' | 'revoked' | 'used_up' | 'failed';

/** Why a link opens nothing, in words its opener understands; `issues` names the state for pages and scripts. */
export class ForkLinkRefusedError extends HangarError {
  constructor(
    readonly state: LinkState,
    message: string,
  ) {
    super(state === 'used_up' || state === 'failed' ? 'conflict' : 'not_found', message, [{ path: 'forkLink.state', message: state }]);
  }
}

const gone = (link: ForkLinkRow | undefined, now: number): ForkLinkRefusedError | null => {
  if (!link) return new ForkLinkRefusedError('unknown', 'This link does not open anything: it is not a fork link of this Hangar.');
  if (link.revokedAt != null) return new ForkLinkRefusedError('revoked', 'This fork link was revoked by its owner.');
  if (link.expiresAt <= now) return new ForkLinkRefusedError('expired', `This fork link expired on ${new Date(link.expiresAt).toUTCString()}.`);
  return null;
};

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const suffix = () => [...randomBytes(6)].map((b) => ALPHABET[b % ALPHABET.length]).join('');

/**
 * Opening a fork link: the browser that opened it before gets its fork back (its cookie holds the
 * fork's console credential); anyone else takes one of the link's slots in one conditional UPDATE
 * (a burst cannot pass the maximum), and gets a new fork of their own. A fork that does not start
 * gives its slot back and the opener is told why.
 */
export async function openForkLink(
  svc: ForkLinkService,
  auth: AuthService,
  token: string,
  cookieOf: (linkId: string) => string | null,
  meta: ClientMeta,
): Promise<OpenedFork & { linkId: string; forkId: string; cookie: string }> {
  const { store, now } = svc.d;
  const link = token.startsWith(FORK_LINK_PREFIX) ? await findForkLinkByHash(store, hashSecret(token)) : undefined;
  if (!link) throw gone(undefined, now())!;
  // The same browser again: its own fork, as long as the fork lives (even once the link expired).
  const cookie = cookieOf(link.id);
  if (cookie && link.revokedAt == null) {
    const p = await auth.authenticate({ share: cookie });
    const f = p?.share ? await forkByShare(store, p.share.id) : undefined;
    const m =
      f?.machineId && f.linkId === link.id && (f.state === 'running' || f.state === 'starting') ? await getMachineRow(store, { id: f.machineId }) : undefined;
    if (f && m)
      return {
        linkId: link.id,
        forkId: f.id,
        cookie,
        machine: { id: m.id, name: m.name, state: m.state },
        share: cookie,
        expiresAt: f.expiresAt,
        reopened: true,
        label: link.label,
      };
  }
  const refused = gone(link, now());
  if (refused) throw refused;
  if ((await reserveForkSlot(store, link.id, now())) === null) {
    throw (
      gone(link, now()) ??
      new ForkLinkRefusedError('used_up', `This link is used up: all ${link.maxForks} of its forks are taken. Ask whoever sent it for another.`)
    );
  }
  const at = now();
  const fork = {
    id: newId('fkf'),
    linkId: link.id,
    machineId: null,
    shareId: null,
    state: 'starting' as const,
    reason: null,
    ip: meta.ip,
    userAgent: meta.userAgent?.slice(0, 300) ?? null,
    createdAt: at,
    expiresAt: at + link.lifetimeS * 1000,
    endedAt: null,
  };
  await insertForkLinkFork(store, fork);
  let name: string | null = null;
  try {
    const owner = await svc.owner(link);
    const snap = await svc.d.snapshots.resolve(link.snapshotId);
    const base = (snap.machineId ? (await getMachineRow(store, { id: snap.machineId }))?.name : undefined) ?? 'fork';
    name = `${base.slice(0, 40)}-link-${suffix()}`;
    const size = { ...(link.cpus ? { cpus: link.cpus } : {}), ...(link.memoryMib ? { memoryMib: link.memoryMib } : {}) };
    const job = await svc.d.snapshots.fork(owner, link.snapshotId, { names: [name] }, size);
    const done = await settled(svc.d.jobs, job);
    const machineId = (done.result as { machines: string[] }).machines[0];
    await updateForkLinkFork(store, fork.id, { machineId });
    // The opener's credential: a share link to this one fork's console, operator there, for its lifetime.
    const shared = await svc.d.shares.create(owner, machineId, {
      role: 'operator',
      expiresInSeconds: Math.max(5, Math.ceil((fork.expiresAt - Date.now()) / 1000)),
      label: link.label ?? 'fork link',
    });
    await updateForkLinkFork(store, fork.id, { shareId: shared.share.id, state: 'running' });
    const m = (await getMachineRow(store, { id: machineId }))!;
    return {
      linkId: link.id,
      forkId: fork.id,
      cookie: shared.token,
      machine: { id: m.id, name: m.name, state: m.state },
      share: shared.token,
      expiresAt: fork.expiresAt,
      reopened: false,
      label: link.label,
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // A fork whose row was written but whose start failed goes: the opener has nothing to reach it with.
    const left = name ? await getMachineRow(store, { name }) : undefined;
    if (left) await svc.d.machines.remove(left.id).catch((e: Error) => console.error(`fork link: could not remove ${left.name}: ${e.message}`));
    await releaseForkSlot(store, link.id);
    await updateForkLinkFork(store, fork.id, { state: 'failed', reason: why, endedAt: now() });
    if (err instanceof ConflictError && err.issues?.some((i) => i.path.startsWith('limits.')))
      throw new ForkLinkRefusedError('failed', `Your fork could not be made: the link owner's limits are reached (${why})`);
    throw new ForkLinkRefusedError('failed', `Your fork did not start: ${why}`);
  }
}
