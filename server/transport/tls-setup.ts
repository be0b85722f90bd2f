import { TlsConfigError, certificateCoversHost, ensureSelfSigned, isLoopback, loadTlsMaterial, type SelfSigned, type TlsMaterial } from './tls';

export type TlsChoice = { scheme: 'https'; own: boolean } | { scheme: 'http'; reason: 'loopback' | 'proxy' | 'insecure' };

export interface TransportFlags {
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  tls?: boolean;
  insecureHttp?: boolean;
  trustedProxies?: string[];
}

/**
 * HTTPS unless the bind is loopback, or the operator said plain HTTP beyond it is meant:
 * --insecure-http, or a TLS proxy in front (--trusted-proxy). The operator's own certificate,
 * or --tls, means HTTPS wherever it binds.
 */
export function chooseTransport(f: TransportFlags): TlsChoice {
  if (!!f.tlsCert !== !!f.tlsKey) throw new TlsConfigError('--tls-cert and --tls-key (HANGAR_TLS_CERT, HANGAR_TLS_KEY) go together: give both.');
  const plainAsked = f.insecureHttp || (f.trustedProxies?.length ?? 0) > 0;
  if ((f.tlsCert || f.tls) && plainAsked)
    throw new TlsConfigError('--insecure-http and --trusted-proxy serve plain HTTP: they cannot go with --tls or --tls-cert.');
  if (f.tlsCert) return { scheme: 'https', own: true };
  if (f.tls) return { scheme: 'https', own: false };
  if (isLoopback(f.host)) return { scheme: 'http', reason: 'loopback' };
  if (f.insecureHttp) return { scheme: 'http', reason: 'insecure' };
  if (plainAsked) return { scheme: 'http', reason: 'proxy' };
  return { scheme: 'https', own: false };
}

export interface PreparedTls {
  material: TlsMaterial;
  selfSigned: boolean;
  certFile: string;
  action?: SelfSigned['action'];
  /** A note for the operator (an own certificate that does not name this host). */
  warning?: string;
  /** Reads the files again (renewing the self-signed one when due); throws, and changes nothing, when they cannot serve. */
  reload(): Promise<TlsMaterial>;
}

export async function prepareTls(choice: { own: boolean }, o: TransportFlags & { dataDir: string }): Promise<PreparedTls> {
  if (choice.own) {
    const certFile = o.tlsCert!;
    const keyFile = o.tlsKey!;
    const material = loadTlsMaterial(certFile, keyFile);
    const warning = certificateCoversHost(material, o.host)
      ? undefined
      : `the certificate names ${material.names.join(', ') || 'no host'}, not ${o.host}: clients must connect by one of those names.`;
    return { material, selfSigned: false, certFile, warning, reload: async () => loadTlsMaterial(certFile, keyFile) };
  }
  const made = await ensureSelfSigned(o.dataDir, o.host);
  const material = loadTlsMaterial(made.certFile, made.keyFile);
  return {
    material,
    selfSigned: true,
    certFile: made.certFile,
    action: made.action,
    reload: async () => {
      const again = await ensureSelfSigned(o.dataDir, o.host);
      return loadTlsMaterial(again.certFile, again.keyFile);
    },
  };
}
