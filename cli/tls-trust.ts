import { createHash } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { CliError } from './output';
import { normalizeFingerprint, type TlsTrust } from './tls-pin';

// The certificate check itself; what a pin is (and its format) is in tls-pin.ts, which the CLI's start-up reads.
export { normalizeFingerprint, type TlsTrust };

export function spkiHash(cert: tls.PeerCertificate): string {
  return cert.pubkey ? createHash('sha256').update(cert.pubkey).digest('hex') : '';
}

export class FingerprintChangedError extends CliError {}

/** The last refusal of a pinned connection: fetch reports it only as "fetch failed", so the CLI's error handler asks here. */
export let lastRefusal: FingerprintChangedError | null = null;

export function changedMessage(host: string, seen: string, pinned: string): string {
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@  WARNING: THE SERVER CERTIFICATE HAS CHANGED!            @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    `The certificate of ${host} is not the one pinned at hangar login. Someone could be`,
    'intercepting the connection (a man in the middle), or the server got a new certificate.',
    `  pinned:   ${pinned}`,
    `  received: ${seen}`,
    'Nothing was sent. If the change is expected (check the fingerprint the server prints at',
    'start), run `hangar logout` and `hangar login` again.',
  ].join('\n');
}

/** Is this TLS socket's peer one we trust? An Error to refuse it with, or null. */
export function checkPeer(socket: tls.TLSSocket, trust: TlsTrust, host: string): Error | null {
  if (trust.ca) return socket.authorized ? null : new CliError(`The certificate of ${host} is not signed by the given CA: ${socket.authorizationError}`);
  const cert = socket.getPeerCertificate();
  if (!cert?.fingerprint256) return new CliError(`${host} presented no certificate.`);
  if (trust.fingerprint256 && cert.fingerprint256 === trust.fingerprint256) return null;
  if (trust.spki256 && spkiHash(cert) === trust.spki256) return null;
  lastRefusal = new FingerprintChangedError(changedMessage(host, cert.fingerprint256, trust.fingerprint256 ?? '(none)'), 3);
  return lastRefusal;
}

interface ConnectTarget {
  host: string;
  port: number;
  servername?: string;
}

/** A TLS connection handed over only once its peer passed checkPeer. */
export function connectTrusted(t: ConnectTarget, trust: TlsTrust, cb: (err: Error | null, socket?: tls.TLSSocket) => void): void {
  const host = t.host.replace(/^\[|\]$/g, '');
  const socket = tls.connect({
    host,
    port: t.port,
    servername: t.servername || (net.isIP(host) ? undefined : host),
    ca: trust.ca,
    rejectUnauthorized: !!trust.ca,
    ALPNProtocols: ['http/1.1'],
  });
  let done = false;
  const finish = (err: Error | null) => {
    if (done) return;
    done = true;
    if (err) {
      socket.destroy();
      cb(err);
    } else cb(null, socket);
  };
  socket.once('secureConnect', () => finish(checkPeer(socket, trust, `${host}:${t.port}`)));
  socket.once('error', (e) => finish(e));
}

/** An https.Agent for socket.io-client (ws): the same check before the upgrade request is written. */
export function trustedAgent(trust: TlsTrust): https.Agent {
  const agent = new https.Agent({ keepAlive: false });
  (agent as unknown as { createConnection: unknown }).createConnection = (
    o: { host?: string; hostname?: string; port?: number | string; servername?: string },
    cb: (err: Error | null, s?: tls.TLSSocket) => void,
  ) => {
    connectTrusted({ host: o.hostname ?? o.host ?? 'localhost', port: Number(o.port ?? 443), servername: o.servername }, trust, cb);
    return undefined;
  };
  return agent;
}

/** Route every fetch of this process through the check (the API client uses the global fetch). */
export async function installTrust(trust: TlsTrust): Promise<void> {
  const { Agent, setGlobalDispatcher, buildConnector } = await import('undici');
  const plain = buildConnector({});
  setGlobalDispatcher(
    new Agent({
      connect: (o, cb) => {
        if (o.protocol !== 'https:') return plain(o, cb);
        connectTrusted({ host: o.hostname, port: Number(o.port || 443), servername: o.servername ?? undefined }, trust, (err, s) =>
          err ? cb(err, null) : cb(null, s!),
        );
      },
    }),
  );
}

export interface ServerCertificate {
  /** Verified by the CAs this computer trusts (and the host name matches): nothing to pin. */
  trusted: boolean;
  reason?: string;
  fingerprint256: string;
  spki256: string;
  subject: string;
  validTo: string;
}

/** What certificate a server presents, and whether the system's CAs vouch for it (for `hangar login`). */
export function fetchServerCertificate(url: URL, ca?: string): Promise<ServerCertificate> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      servername: net.isIP(host) ? undefined : host,
      ca,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.once('error', (e) => reject(new CliError(`Cannot reach ${url.origin}: ${e.message}`)));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      let reason = socket.authorizationError ? String(socket.authorizationError) : undefined;
      if (!reason) reason = tls.checkServerIdentity(host, cert)?.message;
      resolve({
        trusted: !reason,
        reason,
        fingerprint256: cert.fingerprint256,
        spki256: spkiHash(cert),
        subject: String(cert.subject?.CN ?? ''),
        validTo: cert.valid_to,
      });
      socket.destroy();
    });
  });
}
