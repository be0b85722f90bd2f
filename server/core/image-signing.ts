import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: what precedes the raw 32-byte key. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const rawPublicKey = (key: KeyObject): string => (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_PREFIX.length).toString('base64');

/** `SHA256:…` of the raw public key, as OpenSSH shows key fingerprints. */
export const fingerprintOf = (publicKey: string): string =>
  `SHA256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('base64').replace(/=+$/, '')}`;

/**
 * This Hangar's Ed25519 key for signing what it publishes (image manifests): made on first use
 * under `DATA/keys/` (mode 0600, never served), the public half shown so other Hangars can trust it.
 */
export class ImageSigner {
  private key: KeyObject | null = null;

  constructor(private readonly dir: string) {}

  private load(): KeyObject {
    if (this.key) return this.key;
    const file = path.join(this.dir, 'image-signing.pem');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      fs.renameSync(tmp, file);
    }
    this.key = createPrivateKey(fs.readFileSync(file));
    return this.key;
  }

  publicKey(): string {
    return rawPublicKey(createPublicKey(this.load()));
  }

  sign(data: Buffer): string {
    return sign(null, data, this.load()).toString('base64');
  }
}

/** Whether `signature` (base64) is the Ed25519 signature of `data` by the raw `publicKey` (base64). */
export function verifySignature(publicKey: string, data: Buffer, signature: string): boolean {
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== 32) return false;
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  const sig = Buffer.from(signature.trim(), 'base64');
  return sig.length === 64 && verify(null, data, key, sig);
}
