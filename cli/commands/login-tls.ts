import fs from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { savedConfig } from '../config';
import { CliError } from '../output';
import { FingerprintChangedError, changedMessage, fetchServerCertificate, normalizeFingerprint, type TlsTrust } from '../tls-trust';

export interface LoginTlsFlags {
  ca?: string;
  fingerprint?: string;
  acceptNew?: boolean;
}

/**
 * Trust for an https:// server at login. A CA file: verified against it. A certificate the
 * system's CAs vouch for: nothing to pin. Otherwise trust on first use, as ssh does: the
 * fingerprint is shown and accepted by the user (or given with --fingerprint, or --accept-new
 * in scripts), then pinned in the CLI config; a pin that no longer matches is refused.
 */
export async function trustForLogin(url: string, f: LoginTlsFlags, log: (line: string) => void): Promise<TlsTrust | undefined> {
  const u = new URL(url);
  if (u.protocol !== 'https:') return undefined;
  if (f.ca) {
    let ca: string;
    try {
      ca = fs.readFileSync(f.ca, 'utf8');
    } catch (e) {
      throw new CliError(`--ca ${f.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const seen = await fetchServerCertificate(u, ca);
    if (!seen.trusted) throw new CliError(`The certificate of ${u.host} is not vouched for by ${f.ca}: ${seen.reason}`);
    return { ca };
  }
  const seen = await fetchServerCertificate(u);
  if (seen.trusted) return undefined;
  const saved = savedConfig();
  const pinned = saved.tls?.fingerprint256 && saved.url && new URL(saved.url).origin === u.origin ? saved.tls : undefined;
  if (pinned) {
    if (seen.fingerprint256 === pinned.fingerprint256 || (pinned.spki256 && seen.spki256 === pinned.spki256))
      return { fingerprint256: seen.fingerprint256, spki256: seen.spki256 };
    throw new FingerprintChangedError(changedMessage(u.host, seen.fingerprint256, pinned.fingerprint256!), 3);
  }
  const pin = { fingerprint256: seen.fingerprint256, spki256: seen.spki256 };
  const about = [
    `The certificate of ${u.host} is not signed by a CA this computer trusts (${seen.reason}).`,
    `  subject: ${seen.subject}  valid until: ${seen.validTo}`,
    `  SHA-256 fingerprint: ${seen.fingerprint256}`,
  ];
  if (f.fingerprint) {
    if (normalizeFingerprint(f.fingerprint) !== seen.fingerprint256)
      throw new FingerprintChangedError(changedMessage(u.host, seen.fingerprint256, normalizeFingerprint(f.fingerprint)), 3);
    log(`Pinned the certificate of ${u.host} (SHA-256 ${seen.fingerprint256}).`);
    return pin;
  }
  if (f.acceptNew) {
    for (const l of about) log(l);
    log('Pinned it (--accept-new): later connections must present this certificate.');
    return pin;
  }
  if (!process.stdin.isTTY)
    throw new CliError(
      `${about.join('\n')}\nCompare it with the fingerprint \`hangar up\` printed, then log in again with --fingerprint ${seen.fingerprint256}` +
        ' (or --ca FILE, or --accept-new).',
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await rl.question(`${about.join('\n')}\nCompare it with the fingerprint \`hangar up\` printed. Trust and pin it (yes/no)? `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Not trusted: nothing was sent to the server.');
  return pin;
}
