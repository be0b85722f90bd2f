import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A certificate the server will not start with; the message names the file and the fault. */
export class TlsConfigError extends Error {}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 of the certificate's DER, colon-separated hex (what `openssl x509 -fingerprint -sha256` prints). */
  fingerprint256: string;
  validTo: Date;
  /** The certificate's DNS names and IP addresses. */
  names: string[];
}

/** 127.0.0.0/8, ::1 and localhost: the only binds that stay plain HTTP by default. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) {
    if (h === '::1') return true;
    const mapped = h.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
    return !!mapped && mapped[1].startsWith('127.');
  }
  return false;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The names and addresses a self-signed certificate is made for: the bind address (or every interface's), the host name, localhost. */
export function certificateNames(bindHost: string): { dns: string[]; ip: string[] } {
  const dns = new Set<string>(['localhost']);
  const ip = new Set<string>(['127.0.0.1', '::1']);
  const hostname = os.hostname();
  if (/^[A-Za-z0-9.-]{1,253}$/.test(hostname)) dns.add(hostname);
  const h = bindHost.replace(/^\[|\]$/g, '');
  if (WILDCARDS.has(h)) {
    for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (!a.address.includes('%')) ip.add(a.address);
  } else if (net.isIP(h)) ip.add(h);
  else if (/^[A-Za-z0-9.-]{1,253}$/.test(h)) dns.add(h);
  return { dns: [...dns], ip: [...ip] };
}

function readNamed(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new TlsConfigError(`TLS ${what} ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const NOT_BEFORE_SLACK_MS = 5 * 60_000;

/** Reads and checks a certificate and its key: parseable, valid now, and the key is the certificate's. */
export function loadTlsMaterial(certFile: string, keyFile: string, now = new Date()): TlsMaterial {
  const cert = readNamed(certFile, 'certificate');
  const key = readNamed(keyFile, 'key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new TlsConfigError(`TLS certificate ${certFile} is not a PEM certificate: ${(e as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsConfigError(`TLS key ${keyFile} is not a PEM private key (or is encrypted): ${(e as Error).message}`);
  }
  const validTo = new Date(x509.validTo);
  if (validTo.getTime() <= now.getTime()) throw new TlsConfigError(`TLS certificate ${certFile} expired on ${validTo.toISOString()}`);
  const validFrom = new Date(x509.validFrom);
  // Some slack: a certificate made a moment ago (openssl's clock, whole seconds) is not "from the future".
  if (validFrom.getTime() > now.getTime() + NOT_BEFORE_SLACK_MS)
    throw new TlsConfigError(`TLS certificate ${certFile} is not valid before ${validFrom.toISOString()}`);
  if (!x509.checkPrivateKey(privateKey)) throw new TlsConfigError(`TLS key ${keyFile} does not match the certificate ${certFile}`);
  const names = (x509.subjectAltName ?? '')
    .split(', ')
    .map((n) => n.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return { cert, key, fingerprint256: x509.fingerprint256, validTo, names };
}

/** Does the certificate name the host it is served as? Wildcard binds are answered for the host name. */
export function certificateCoversHost(m: TlsMaterial, bindHost: string): boolean {
  const x509 = new X509Certificate(m.cert);
  const h = bindHost.replace(/^\[|\]$/g, '');
  if (WILDCARDS.has(h)) return !!x509.checkHost(os.hostname()) || Object.values(os.networkInterfaces()).some((l) => l?.some((a) => !!x509.checkIP(a.address)));
  return net.isIP(h) ? !!x509.checkIP(h) : !!x509.checkHost(h);
}

/** Renew a self-signed certificate this long before it expires. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;
const VALID_DAYS = 397;

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { timeout: 30_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`openssl ${args[0]} failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
}

export interface SelfSigned {
  certFile: string;
  keyFile: string;
  /** 'made' on first start, 'renewed' when the old one was near its end, 'kept' otherwise. */
  action: 'made' | 'renewed' | 'kept';
}

/**
 * The server's own certificate under DATA/tls: made on first start for the host's names and
 * addresses, kept while valid, renewed (same key, so a CLI's pin on the key survives) when
 * fewer than 30 days are left. ECDSA P-256: the cheapest handshake for the same security.
 */
export async function ensureSelfSigned(dataDir: string, bindHost: string, now = new Date(), force = false): Promise<SelfSigned> {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, 'self-signed.crt');
  const keyFile = path.join(dir, 'self-signed.key');
  let action: SelfSigned['action'] = 'made';
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    try {
      const m = loadTlsMaterial(certFile, keyFile, now);
      if (!force && m.validTo.getTime() - now.getTime() > RENEW_BEFORE_MS) return { certFile, keyFile, action: 'kept' };
      action = 'renewed';
    } catch {
      action = 'renewed';
    }
  }
  const { dns, ip } = certificateNames(bindHost);
  const san = [...dns.map((d) => `DNS:${d}`), ...ip.map((a) => `IP:${a}`)].join(',');
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  try {
    let keyArgs = ['-key', keyFile];
    try {
      createPrivateKey(fs.readFileSync(keyFile));
    } catch {
      keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', tmpKey];
    }
    const cn = dns.find((d) => d !== 'localhost') ?? 'localhost';
    await openssl([
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-sha256',
      '-days',
      String(VALID_DAYS),
      '-subj',
      `/O=Hangar/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
      '-out',
      tmpCert,
    ]);
    if (fs.existsSync(tmpKey)) {
      fs.chmodSync(tmpKey, 0o600);
      fs.renameSync(tmpKey, keyFile);
    }
    fs.chmodSync(keyFile, 0o600);
    fs.renameSync(tmpCert, certFile);
  } finally {
    fs.rmSync(tmpKey, { force: true });
    fs.rmSync(tmpCert, { force: true });
  }
  return { certFile, keyFile, action };
}
