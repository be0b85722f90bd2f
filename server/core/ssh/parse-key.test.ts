import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from './parse-key';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-keys-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A key made by OpenSSH's own ssh-keygen, and the fingerprint it prints for it. */
let n = 0;
function keygen(type: string, bits?: number): { pub: string; fp: string; priv: string } {
  const f = path.join(dir, `k${++n}-${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'me@laptop', '-f', f]);
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${f}.pub`], { encoding: 'utf8' }).split(' ')[1];
  return { pub: fs.readFileSync(`${f}.pub`, 'utf8'), fp, priv: fs.readFileSync(f, 'utf8') };
}

describe('SSH public keys', () => {
  it('reads ed25519, RSA and ECDSA keys with the fingerprint ssh-keygen prints', () => {
    for (const [type, bits, want] of [
      ['ed25519', undefined, 'ssh-ed25519'],
      ['rsa', 2048, 'ssh-rsa'],
      ['ecdsa', 384, 'ecdsa-sha2-nistp384'],
    ] as const) {
      const k = keygen(type, bits);
      const p = parsePublicKey(k.pub);
      expect(p.type).toBe(want);
      expect(p.fingerprint).toBe(k.fp);
      expect(p.comment).toBe('me@laptop');
      expect(p.publicKey).toBe(k.pub.split(' ').slice(0, 2).join(' '));
      expect(p.bits).toBe(bits ?? null);
    }
  });

  it('refuses RSA under 2048 bits, private keys, garbage, options, several lines and unknown types', () => {
    expect(() => parsePublicKey(keygen('rsa', 1024).pub)).toThrow(/2048 bits/);
    expect(() => parsePublicKey(keygen('ed25519').priv)).toThrow(/private key/);
    expect(() => parsePublicKey('ssh-ed25519 AAAAnot-a-key')).toThrow(/Malformed/);
    expect(() => parsePublicKey('')).toThrow(/empty/);
    const ed = keygen('ed25519').pub.trim();
    expect(() => parsePublicKey(`command="rm -rf /" ${ed}`)).toThrow(/accepted/);
    expect(() => parsePublicKey(`${ed}\n${ed}`)).toThrow(/one line/);
    expect(() => parsePublicKey(`ssh-dss ${ed.split(' ')[1]}`)).toThrow(/accepted/);
    // The data of one type under the name of another.
    expect(() => parsePublicKey(`ssh-rsa ${ed.split(' ')[1]}`)).toThrow(/Malformed/);
  });
});
