import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export type IdPrefix =
  | 'usr'
  | 'ses'
  | 'tok'
  | 'job'
  | 'mch'
  | 'snp'
  | 'img'
  | 'shr'
  | 'aud'
  | 'upl'
  | 'whk'
  | 'whd'
  | 'sch'
  | 'bkt'
  | 'sso'
  | 'key'
  | 'fkl'
  | 'fkf'
  | 'iso'
  | 'nod'
  | 'jtk'
  | 'cls';

/** 20 random chars from a 36-letter alphabet: ~103 bits, unguessable and safe in paths. */
export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${s}`;
}

/** A long random secret for cookies, API tokens and share links (256 bits). */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}
