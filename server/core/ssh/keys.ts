import type { Store } from '@/db/client';
import { deleteSshKey, findSshKeyByFingerprint, insertSshKey, listSshKeys } from '@/db/repo/ssh-keys';
import type { AddSshKeyBody, SshKey } from '@/lib/contracts/ssh-keys';
import type { Principal } from '../auth';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { newId } from '../ids';
import { parsePublicKey } from './parse-key';

/** A user's own SSH keys. Each change is told to `onChange` (the machines' authorized_keys follow). */
export class SshKeyService {
  onChange: (userId: string) => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keys belong to people: a share link has none. */
  private owner(p: Principal): string {
    if (p.via === 'share') throw new ForbiddenError('A share link has no SSH keys.');
    return p.user.id;
  }

  list(p: Principal): Promise<SshKey[]> {
    return listSshKeys(this.store, this.owner(p));
  }

  async add(p: Principal, body: AddSshKeyBody): Promise<SshKey> {
    const userId = this.owner(p);
    let k;
    try {
      k = parsePublicKey(body.publicKey);
    } catch (err) {
      throw new BadRequestError((err as Error).message, [{ path: 'publicKey', message: (err as Error).message }]);
    }
    const dup = await findSshKeyByFingerprint(this.store, userId, k.fingerprint);
    if (dup) throw new ConflictError(`You added this key already, as "${dup.name}" (${k.fingerprint}).`);
    const name = body.name ?? (k.comment || `${k.type.replace(/^ssh-/, '')} key`);
    const key = await insertSshKey(this.store, {
      id: newId('key'),
      userId,
      name,
      type: k.type,
      bits: k.bits,
      fingerprint: k.fingerprint,
      publicKey: k.publicKey,
      createdAt: this.now(),
    }).catch(async (err: unknown) => {
      // Two adds of one key at once: the unique index decides, the loser hears the same 409.
      if (await findSshKeyByFingerprint(this.store, userId, k.fingerprint)) throw new ConflictError(`You added this key already (${k.fingerprint}).`);
      throw err;
    });
    this.onChange(userId);
    return key;
  }

  async remove(p: Principal, id: string): Promise<SshKey> {
    const userId = this.owner(p);
    const gone = await deleteSshKey(this.store, userId, id);
    if (!gone) throw new NotFoundError('SSH key');
    this.onChange(userId);
    return gone;
  }
}
