import type { CreateShareBody, RecordingShareInfo, Share, ShareInfo } from '@/lib/contracts/shares';
import type { Store } from '@/db/client';
import { getShare, insertShare, listShares, revokeShare, type ShareRow } from '@/db/repo/shares';
import { getUser } from '@/db/repo/users';
import { hashSecret, SHARE_PREFIX, type AuthService, type Principal } from './auth';
import { NotFoundError } from './errors';
import { newId, newSecret } from './ids';
import type { MachineService } from './machines';
import type { RecordingService } from './console/recordings';

/**
 * Share links: a machine's console for someone without an account, read-only or to type into,
 * until the link expires (24 h by default) or is revoked. The token is a long random value,
 * shown once and stored hashed. Revoking (or expiry) closes consoles already open through it.
 */
export class ShareService {
  constructor(
    private readonly store: Store,
    private readonly auth: AuthService,
    private readonly machines: MachineService,
    private readonly recordings: RecordingService,
    private readonly now: () => number = Date.now,
  ) {}

  private async toShare(r: ShareRow): Promise<Share> {
    const by = r.createdBy ? ((await getUser(this.store, r.createdBy))?.username ?? null) : null;
    const state = r.revokedAt != null ? 'revoked' : r.expiresAt <= this.now() ? 'expired' : 'active';
    return {
      id: r.id,
      machineId: r.machineId,
      role: r.role === 'operator' ? 'operator' : 'viewer',
      label: r.label,
      createdBy: by,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      revokedAt: r.revokedAt,
      lastUsedAt: r.lastUsedAt,
      state,
      recordingId: r.recordingId ?? null,
    };
  }

  async create(
    p: Principal,
    ref: string,
    body: Required<Pick<CreateShareBody, 'role' | 'expiresInSeconds'>> & { label?: string; recordingId?: string },
  ): Promise<{ share: Share; token: string; path: string }> {
    const m = await this.machines.get(p, ref);
    // A recording link is a share link of another kind: same token, expiry, revocation and audit, narrower reach.
    if (body.recordingId) this.recordings.file(m.id, body.recordingId);
    const token = newSecret(SHARE_PREFIX);
    const now = this.now();
    const row: ShareRow = {
      id: newId('shr'),
      machineId: m.id,
      tokenHash: hashSecret(token),
      role: body.role,
      label: body.label ?? null,
      createdBy: p.via === 'share' ? null : p.user.id,
      createdAt: now,
      expiresAt: now + body.expiresInSeconds * 1000,
      revokedAt: null,
      lastUsedAt: null,
      recordingId: body.recordingId ?? null,
    };
    await insertShare(this.store, row);
    return { share: await this.toShare(row), token, path: `${body.recordingId ? '/r/' : '/s/'}${token}` };
  }

  async list(p: Principal, ref: string): Promise<Share[]> {
    const m = await this.machines.get(p, ref);
    return Promise.all((await listShares(this.store, m.id)).map((r) => this.toShare(r)));
  }

  /** Revoked at once: requests with it fail, and consoles opened through it close. */
  async revoke(id: string): Promise<Share> {
    const row = await getShare(this.store, id);
    if (!row) throw new NotFoundError('Share link');
    await revokeShare(this.store, id, this.now());
    this.auth.revoked({ shareId: id, reason: 'The share link was revoked.' });
    return this.toShare((await getShare(this.store, id))!);
  }

  /** What a link's holder may know: its machine and until when. */
  async info(p: Principal): Promise<ShareInfo> {
    if (!p.share || p.share.recordingId) throw new NotFoundError('Share link');
    const m = await this.machines.get(p, p.share.machineId);
    const row = (await getShare(this.store, p.share.id))!;
    const shell = m.capabilities.consoles.shell;
    return {
      machine: { id: m.id, name: m.name, state: m.state, display: m.capabilities.display.available },
      shell: row.role === 'operator' && m.ssh && shell ? { label: shell.label } : null,
      role: row.role === 'operator' ? 'operator' : 'viewer',
      label: row.label,
      expiresAt: row.expiresAt,
    };
  }

  /** The one recording a recording link opens (the route guard lets only recording links ask). */
  recordingOf(p: Principal): { machineId: string; recordingId: string } {
    if (!p.share?.recordingId) throw new NotFoundError('Recording');
    return { machineId: p.share.machineId, recordingId: p.share.recordingId };
  }

  /** What a recording link's holder may know: the recording, its machine's name, and until when. */
  async recordingInfo(p: Principal): Promise<RecordingShareInfo> {
    const { machineId, recordingId } = this.recordingOf(p);
    const rec = this.recordings.list(machineId).find((r) => r.id === recordingId);
    if (!rec) throw new NotFoundError('Recording');
    const row = (await getShare(this.store, p.share!.id))!;
    const m = await this.machines.get(p, machineId);
    return { machine: { name: m.name }, recording: rec, label: row.label, expiresAt: row.expiresAt };
  }
}
