import { sign as edSign, verify as edVerify, createPublicKey, type KeyObject } from 'node:crypto';
import type { Store } from '@/db/client';
import { consumeJoinToken, deleteJoinToken, insertJoinToken, releaseJoinToken } from '@/db/repo/join-tokens';
import { findNodeById, findNodeByName, insertNode, type NodeStatus } from '@/db/repo/nodes';
import { joinedSchema, pongSchema, type JoinBody, type Joined, type JoinToken } from '@/lib/contracts/nodes';
import { hashSecret } from '../auth';
import { ConflictError, NotFoundError, RateLimitedError } from '../errors';
import { newId, newSecret } from '../ids';
import { LoginThrottle } from '../login-throttle';
import { newNonce } from './identity';

export const JOIN_TOKEN_PREFIX = 'hgj_';
const DEFAULT_TTL_S = 30 * 60;
const PING_TIMEOUT_MS = 5_000;

/** The answer to a ping: proof that whoever answers at the URL holds the node's private key. */
export function signChallenge(key: KeyObject, challenge: string): string {
  return edSign(null, Buffer.from(`hangar-pong\n${challenge}`), key).toString('base64url');
}

export function verifyChallenge(publicKeyPem: string, challenge: string, sig: string): boolean {
  try {
    return edVerify(null, Buffer.from(`hangar-pong\n${challenge}`), createPublicKey(publicKeyPem), Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

export function versionMismatch(name: string, theirs: string, ours: string): string {
  return `node ${name} runs ${theirs}, this cluster ${ours}: every node must run the same version (stop all, upgrade, start)`;
}

export interface JoinDeps {
  store: Store;
  version: string;
  clusterId: () => string;
  /** Signature headers for a call from this node (the ping). */
  sign: (method: string, path: string) => Record<string, string>;
  /** Figures for the new row before its first heartbeat. */
  blankStatus?: Partial<NodeStatus>;
  fetch?: typeof fetch;
}

/**
 * Join tokens and the server side of a join: a single-use `hgj_` secret (only its hash kept),
 * consumed by one conditional UPDATE, then the joiner's URL called back so that the row never
 * names a URL its key holder does not answer at.
 */
export class JoinService {
  /** Join attempts with a bad token count like failed logins, per client address. */
  private readonly throttle = new LoginThrottle();

  constructor(private readonly d: JoinDeps) {}

  async createToken(createdBy: string | null, ttlSeconds = DEFAULT_TTL_S, publicUrl: string): Promise<JoinToken> {
    const token = newSecret(JOIN_TOKEN_PREFIX);
    const row = await insertJoinToken(this.d.store, { id: newId('jtk'), tokenHash: hashSecret(token), createdBy, ttlMs: ttlSeconds * 1000 });
    return { id: row.id, token, expiresAt: row.expiresAt, command: `hangar up --cluster-join ${publicUrl} --token ${token}` };
  }

  async revokeToken(id: string): Promise<void> {
    if (!(await deleteJoinToken(this.d.store, id))) throw new NotFoundError('Join token');
  }

  async join(body: JoinBody, ip: string | null): Promise<Joined> {
    const wait = this.throttle.retryAfterMs('join', ip);
    if (wait > 0) throw new RateLimitedError(`Too many failed joins: try again in ${Math.ceil(wait / 1000)} s.`, Math.ceil(wait / 1000));
    if (body.version !== this.d.version) throw new ConflictError(versionMismatch(body.name, body.version, this.d.version));
    if (await findNodeByName(this.d.store, body.name))
      throw new ConflictError(`A node named ${body.name} is already in the cluster: give another --node-name.`);
    if (await findNodeById(this.d.store, body.nodeId)) throw new ConflictError('This node is already in the cluster.');
    const token = await consumeJoinToken(this.d.store, hashSecret(body.token), body.nodeId);
    if (!token) {
      this.throttle.fail('join', ip);
      throw new ConflictError('This join token is unknown, already used or expired: make a new one (hangar nodes token).');
    }
    try {
      await this.ping(body);
      await insertNode(this.d.store, {
        id: body.nodeId,
        name: body.name,
        publicKey: body.publicKey,
        version: body.version,
        internalUrl: body.internalUrl,
        ...this.d.blankStatus,
      });
    } catch (e) {
      // Not joined: the token may be used again (by a corrected attempt).
      await releaseJoinToken(this.d.store, token.id);
      throw e;
    }
    return { nodeId: body.nodeId, name: body.name, clusterId: this.d.clusterId() };
  }

  /** Call the joiner back at its internal URL (signed by this node), and check it answers with a signature of the joiner's key. */
  private async ping(body: JoinBody): Promise<void> {
    const challenge = newNonce() + newNonce();
    const p = `/api/internal/ping?challenge=${challenge}`;
    const url = new URL(p, body.internalUrl).toString();
    let pong: { node: string; signature: string };
    try {
      const res = await (this.d.fetch ?? fetch)(url, { headers: this.d.sign('GET', p), redirect: 'manual', signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      pong = pongSchema.parse(await res.json());
    } catch (e) {
      throw new ConflictError(
        `The cluster cannot reach node ${body.name} at ${body.internalUrl} (${e instanceof Error ? e.message : String(e)}): ` +
          'give an --internal-url the other nodes can reach.',
      );
    }
    if (pong.node !== body.nodeId || !verifyChallenge(body.publicKey, challenge, pong.signature))
      throw new ConflictError(`Whatever answers at ${body.internalUrl} is not node ${body.name} (its key does not match).`);
  }
}

/** The joining side: ask a node of the cluster to take this node in. */
export async function requestJoin(clusterUrl: string, body: JoinBody): Promise<Joined> {
  const url = new URL('/api/cluster/join', clusterUrl).toString();
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      // Like every unauthenticated change, the join must come from the cluster's own origin (not a browser elsewhere).
      headers: { 'content-type': 'application/json', origin: new URL(clusterUrl).origin },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new Error(`Cannot reach the cluster at ${clusterUrl}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const text = await res.text();
  if (!res.ok) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // Not our envelope (a proxy's page): shown as it came.
    }
    throw new Error(`The cluster refused the join (${res.status}): ${msg}`);
  }
  return joinedSchema.parse(JSON.parse(text));
}
