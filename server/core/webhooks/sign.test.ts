import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, signatureOf, verifySignature } from './sign';

describe('webhook signatures (Stripe scheme)', () => {
  const secret = 'whsec_test-secret-0123456789';
  const body = JSON.stringify({ id: 'whd_x', event: 'machine.state', data: { a: 1 } });

  it('is HMAC-SHA256 of "TIMESTAMP.BODY" with the secret, in hex, as t=...,v1=...', () => {
    const want = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signatureOf(secret, 1700000000, body)).toBe(want);
    expect(signatureHeader(secret, body, 1700000000)).toBe(`t=1700000000,v1=${want}`);
  });

  it('verifies its own header and refuses a changed body, another secret, an old timestamp or junk', () => {
    const now = 1700000000;
    const h = signatureHeader(secret, body, now);
    expect(verifySignature(secret, h, body, 300, now)).toBe(true);
    expect(verifySignature(secret, h, body.replace('1', '2'), 300, now)).toBe(false);
    expect(verifySignature('whsec_another-secret-000000', h, body, 300, now)).toBe(false);
    expect(verifySignature(secret, h, body, 300, now + 301)).toBe(false);
    expect(verifySignature(secret, 'v1=abc', body, 300, now)).toBe(false);
    expect(verifySignature(secret, `t=${now},v1=zz`, body, 300, now)).toBe(false);
    // Several v1 entries (a secret being rolled): any one that matches will do.
    expect(verifySignature(secret, `t=${now},v1=${'0'.repeat(64)},v1=${signatureOf(secret, now, body)}`, body, 300, now)).toBe(true);
  });
});
