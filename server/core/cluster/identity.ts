import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Who this node is in its cluster (DATA/cluster/node.json); absent until it founds or joins one. */
export interface NodeInfo {
  id: string;
  name: string;
  clusterId: string;
  /** It founded the cluster: it holds the rows older than the cluster (node_id null). */
  founder: boolean;
}

/** This node's credential: an Ed25519 key pair made once (DATA/cluster/node.key, mode 0600); the public half goes into `nodes.public_key`. */
export interface Identity {
  dir: string;
  key: KeyObject;
  publicKeyPem: string;
  info: NodeInfo | null;
}

export function loadOrCreateIdentity(dataDir: string): Identity {
  const dir = path.join(dataDir, 'cluster');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'node.key');
  let key: KeyObject;
  if (fs.existsSync(keyFile)) {
    key = createPrivateKey(fs.readFileSync(keyFile));
  } else {
    key = generateKeyPairSync('ed25519').privateKey;
    // Written whole under another name, then renamed: a crash never leaves half a key.
    fs.writeFileSync(`${keyFile}.tmp`, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.renameSync(`${keyFile}.tmp`, keyFile);
  }
  fs.chmodSync(keyFile, 0o600);
  const infoFile = path.join(dir, 'node.json');
  const info = fs.existsSync(infoFile) ? (JSON.parse(fs.readFileSync(infoFile, 'utf8')) as NodeInfo) : null;
  return { dir, key, publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(), info };
}

export function saveNodeInfo(id: Identity, info: NodeInfo): void {
  const file = path.join(id.dir, 'node.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  id.info = info;
}

/** What a node signs for a call to another node: the request and (step 2) the user it acts for. */
export interface ForwardFields {
  node: string;
  method: string;
  /** Path and query, as sent. */
  path: string;
  ts: number;
  nonce: string;
  /** JSON of the principal acted for; '' for the node itself. */
  principal: string;
}

const canonical = (f: ForwardFields) => `v1\n${f.node}\n${f.method.toUpperCase()}\n${f.path}\n${f.ts}\n${f.nonce}\n${f.principal}`;

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function signForward(key: KeyObject, fields: ForwardFields): string {
  return sign(null, Buffer.from(canonical(fields)), key).toString('base64url');
}

export function verifyForward(publicKeyPem: string, fields: ForwardFields, sig: string): boolean {
  try {
    return verify(null, Buffer.from(canonical(fields)), createPublicKey(publicKeyPem), Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

/** A signed call is fresh (within 30 s of this node's idea of the database clock) and seen once (nonces kept 60 s). */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly windowMs = 30_000,
    private readonly keepMs = 60_000,
  ) {}

  /** Null when fresh and new (the nonce is then remembered); otherwise why not. */
  check(ts: number, nonce: string): string | null {
    const now = this.now();
    if (!Number.isFinite(ts) || Math.abs(ts - now) > this.windowMs) return 'the signature is too old (or the clocks disagree)';
    for (const [n, at] of this.seen) {
      if (now - at <= this.keepMs) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return 'the signature was already used';
    this.seen.set(nonce, now);
    return null;
  }
}
