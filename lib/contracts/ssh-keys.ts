import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/** One of a user's SSH public keys: it goes into the authorized_keys of every machine the user may operate. */
export const sshKeySchema = z.object({
  id: idSchema,
  name: z.string(),
  /** The key's algorithm as OpenSSH names it: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256... */
  type: z.string(),
  /** The key's size in bits (RSA, ECDSA), null where it has one size only (ed25519). */
  bits: z.number().int().nullable(),
  /** As `ssh-keygen -l` prints it: SHA256:base64 without padding. */
  fingerprint: z.string(),
  /** The key as an authorized_keys line takes it: "TYPE BASE64". */
  publicKey: z.string(),
  createdAt: timestampSchema,
});
export type SshKey = z.infer<typeof sshKeySchema>;

export const addSshKeyBodySchema = z.object({
  /** A name to tell keys apart ("laptop"); the key's comment when not given. */
  name: z.string().trim().min(1).max(64).optional(),
  /** One OpenSSH public key line, as in ~/.ssh/id_ed25519.pub. */
  publicKey: z.string().min(1).max(16_384),
});
export type AddSshKeyBody = z.infer<typeof addSshKeyBodySchema>;

/** A machine's SSH host keys (the lines of its /etc/ssh/ssh_host_*_key.pub), for a known_hosts file. */
export const sshHostKeysSchema = z.object({
  machine: z.string(),
  /** "TYPE BASE64" lines. */
  keys: z.array(z.string()),
  /** The user to log in as. */
  user: z.string(),
});
export type SshHostKeys = z.infer<typeof sshHostKeysSchema>;

/** A machine the caller may reach with OpenSSH through Hangar (`hangar ssh-config` writes one Host block each). */
export const sshHostSchema = z.object({
  id: idSchema,
  name: z.string(),
  state: z.string(),
  user: z.string(),
});
export type SshHost = z.infer<typeof sshHostSchema>;

/** The answer of the tunnel's endpoint when asked without a websocket upgrade: what the upgrade would reach. */
export const sshTunnelInfoSchema = z.object({
  machine: z.string(),
  user: z.string(),
  /** How the stream goes: binary websocket frames both ways; a text frame "eof" half-closes that direction. */
  protocol: z.literal('hangar-ssh-tunnel.v1'),
});
