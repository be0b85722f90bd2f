import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a receiver checks: Stripe's scheme, `t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "t.body"))`. */
export const SIGNATURE_HEADER = 'Hangar-Signature';

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`;
}

/**
 * What a receiver does (and the tests): the header's timestamp within `toleranceS` of now (a
 * replayed old delivery fails) and one of its v1 signatures equal, compared in constant time.
 */
export function verifySignature(secret: string, header: string, body: string, toleranceS = 300, nowS = Math.floor(Date.now() / 1000)): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(signatureOf(secret, t, body), 'hex');
  return parts.some(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? '') && timingSafeEqual(Buffer.from(v, 'hex'), want));
}
