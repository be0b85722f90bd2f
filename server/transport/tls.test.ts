import { describe, expect, it } from 'vitest';
import { isTrustedPeer } from './listener';
import { TlsConfigError, isLoopback } from './tls';
import { chooseTransport } from './tls-setup';

describe('isLoopback', () => {
  it('knows 127/8, ::1, IPv4-mapped loopback and localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost', 'a.localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.2', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});

describe('chooseTransport', () => {
  it('HTTPS beyond loopback unless plain HTTP is asked for; loopback stays plain HTTP', () => {
    expect(chooseTransport({ host: '127.0.0.1' })).toEqual({ scheme: 'http', reason: 'loopback' });
    expect(chooseTransport({ host: '0.0.0.0' })).toEqual({ scheme: 'https', own: false });
    expect(chooseTransport({ host: '0.0.0.0', insecureHttp: true })).toEqual({ scheme: 'http', reason: 'insecure' });
    expect(chooseTransport({ host: '::', trustedProxies: ['10.0.0.5'] })).toEqual({ scheme: 'http', reason: 'proxy' });
    expect(chooseTransport({ host: '127.0.0.1', tls: true })).toEqual({ scheme: 'https', own: false });
    expect(chooseTransport({ host: '127.0.0.1', tlsCert: 'c', tlsKey: 'k' })).toEqual({ scheme: 'https', own: true });
  });

  it('refuses flags that contradict each other', () => {
    expect(() => chooseTransport({ host: '0.0.0.0', tlsCert: 'c' })).toThrow(TlsConfigError);
    expect(() => chooseTransport({ host: '0.0.0.0', tlsCert: 'c', tlsKey: 'k', insecureHttp: true })).toThrow(/cannot go with/);
    expect(() => chooseTransport({ host: '0.0.0.0', tls: true, trustedProxies: ['10.0.0.5'] })).toThrow(/cannot go with/);
  });
});

describe('isTrustedPeer', () => {
  it('loopback and the listed proxies, IPv4-mapped or not', () => {
    expect(isTrustedPeer('::ffff:10.0.0.5', ['10.0.0.5'])).toBe(true);
    expect(isTrustedPeer('10.0.0.5', ['::ffff:10.0.0.5'])).toBe(true);
    expect(isTrustedPeer('127.0.0.1', ['10.0.0.5'])).toBe(true);
    expect(isTrustedPeer('10.0.0.6', ['10.0.0.5'])).toBe(false);
    expect(isTrustedPeer(undefined, ['10.0.0.5'])).toBe(false);
  });
});

describe('ensureSelfSigned', () => {
  it('makes a certificate with a 0600 key, keeps it while valid, renews it on the same key before it expires', async () => {
    const { ensureSelfSigned, loadTlsMaterial } = await import('./tls');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { X509Certificate } = await import('node:crypto');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-tls-unit-'));
    try {
      const now = new Date();
      const made = await ensureSelfSigned(dir, '127.0.0.1', now);
      expect(made.action).toBe('made');
      expect(fs.statSync(made.keyFile).mode & 0o777).toBe(0o600);
      const first = loadTlsMaterial(made.certFile, made.keyFile, now);
      expect(first.names).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']));
      expect((await ensureSelfSigned(dir, '127.0.0.1', now)).action).toBe('kept');
      // 380 days on: under 30 days left, so renewed; the key stays.
      const later = new Date(now.getTime() + 380 * 86_400_000);
      const renewed = await ensureSelfSigned(dir, '127.0.0.1', later);
      expect(renewed.action).toBe('renewed');
      const second = loadTlsMaterial(renewed.certFile, renewed.keyFile);
      expect(second.fingerprint256).not.toBe(first.fingerprint256);
      const spki = (pem: Buffer) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
      expect(spki(second.cert)).toBe(spki(first.cert));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
