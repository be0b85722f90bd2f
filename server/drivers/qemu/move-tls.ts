import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Qmp } from './qmp';

/**
 * TLS for a live move's two streams between nodes (the migration and the NBD export the block mirror
 * writes), as libvirt's "tls" migration does, with QEMU's own `tls-creds-psk`: the receiving node
 * makes a key for this move only and hands it to the sender over the nodes' authenticated channel,
 * so the guest's memory and disk never cross the network in the clear and nobody else can write the
 * export or feed the waiting qemu a stream. No certificates to issue: the key lives as long as the move.
 */
export const MOVE_TLS_ID = 'hangar-move-tls';
/** The PSK identity both sides use (QEMU's default is "qemu"). */
const IDENTITY = 'hangar-move';

/** A fresh key: 32 random bytes, hex as QEMU's keys.psk wants. */
export const moveKey = (): string => randomBytes(32).toString('hex');

/**
 * Turn TLS on for this qemu's migration with `key`: the key file written into `dir` (0600 in a 0700
 * directory), the credentials object added, and the migration parameters pointed at it. The receiving
 * side (`server`) also passes the object's id to its NBD server.
 */
export async function moveTlsOn(q: Qmp, dir: string, key: string, endpoint: 'server' | 'client'): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('the move key is not 32 bytes of hex');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'keys.psk'), `${IDENTITY}:${key}\n`, { mode: 0o600 });
  await q.execute('object-add', { 'qom-type': 'tls-creds-psk', id: MOVE_TLS_ID, dir, endpoint, ...(endpoint === 'client' ? { username: IDENTITY } : {}) });
  await q.execute('migrate-set-parameters', { 'tls-creds': MOVE_TLS_ID });
}

/**
 * TLS off again, once the move is over either way: a machine that stays here checkpoints through
 * `migrate` to a file later, which must not try TLS. The NBD server and any NBD client using the
 * object must be gone first (QEMU refuses to delete an object in use).
 */
export async function moveTlsOff(q: Qmp, dir: string): Promise<void> {
  await q.execute('migrate-set-parameters', { 'tls-creds': '' }).catch(() => undefined);
  await q.execute('object-del', { id: MOVE_TLS_ID }).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}
