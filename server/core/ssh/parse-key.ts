import { createHash, createPublicKey } from 'node:crypto';
// ssh2 is CommonJS: Node's ESM loader finds `Client` among its named exports but not `utils`.
import ssh2 from 'ssh2';

/** A public key as Hangar keeps it. */
export interface ParsedKey {
  type: string;
  bits: number | null;
  /** SHA256:base64 without padding, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** "TYPE BASE64": no options, no comment (those are the user's text, kept out of authorized_keys). */
  publicKey: string;
  comment: string;
}

const ACCEPTED = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'];
const MIN_RSA_BITS = 2048;

/** The SHA256 fingerprint of a key's wire blob, as OpenSSH prints it. */
export const fingerprintOf = (blob: Buffer): string => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

/**
 * Parse one OpenSSH public key line with ssh2's key parser. Throws an Error whose message says
 * what is wrong: several lines, a private key, options before the key, an unknown or weak type.
 */
export function parsePublicKey(text: string): ParsedKey {
  const line = text.trim();
  if (!line) throw new Error('The key is empty: paste one line of a .pub file (ssh-ed25519 AAAA... name).');
  if (/PRIVATE KEY/.test(line)) throw new Error('That is a private key: give its .pub file (the private key never leaves your machine).');
  if (/[\r\n]/.test(line)) throw new Error('Give one key, on one line.');
  const [type = '', b64 = '', ...rest] = line.split(/\s+/);
  if (!ACCEPTED.includes(type))
    throw new Error(`Not an accepted SSH public key type: "${type.slice(0, 40)}" (accepted: ed25519, RSA of ${MIN_RSA_BITS} bits or more, ECDSA).`);
  const parsed = ssh2.utils.parseKey(`${type} ${b64}`);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error(`Malformed ${type} key: its data does not decode to a key.`);
  if (parsed.isPrivateKey()) throw new Error('That is a private key: give its .pub file.');
  if (parsed.type !== type) throw new Error(`Malformed key: it says ${type} but holds ${parsed.type}.`);
  const blob = parsed.getPublicSSH();
  let bits: number | null = null;
  if (type === 'ssh-rsa' || type.startsWith('ecdsa-')) {
    const details = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails ?? {};
    bits = details.modulusLength ?? (type.startsWith('ecdsa-') ? Number(type.slice(-3)) : null);
  }
  if (type === 'ssh-rsa' && (bits ?? 0) < MIN_RSA_BITS) throw new Error(`RSA keys need ${MIN_RSA_BITS} bits or more; this one has ${bits}.`);
  return { type, bits, fingerprint: fingerprintOf(blob), publicKey: `${type} ${blob.toString('base64')}`, comment: rest.join(' ').slice(0, 64) };
}
