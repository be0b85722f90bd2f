/**
 * How the CLI trusts a server's certificate: a CA file (normal verification, host name
 * included), or the fingerprint pinned at `hangar login` (trust on first use, like ssh).
 * A pin also keeps the key's hash, so a self-signed certificate renewed on the same key
 * stays trusted; any other certificate is refused before a byte of the request is sent.
 * (Here without node:tls, which only a run against such a server loads: see tls-trust.ts.)
 */
export interface TlsTrust {
  /** PEM of the CA (or certificates) to trust. */
  ca?: string;
  fingerprint256?: string;
  /** SHA-256 of the certificate's public key (SPKI DER), hex. */
  spki256?: string;
}

/** AB:CD:..., whatever the case or separators it was given in. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .replace(/^sha256:/i, '')
    .replace(/[^0-9a-f]/gi, '')
    .toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}
