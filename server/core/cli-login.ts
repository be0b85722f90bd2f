import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CreatedToken } from '@/lib/contracts/auth';
import type { AuthService, Principal } from './auth';
import { BadRequestError } from './errors';

/** How long a code waits for the CLI to come for it. */
const TTL_MS = 120_000;
/** Codes kept at once (each is one person's browser saying yes): older ones go first. */
const MAX_CODES = 1000;

interface Pending {
  principal: Principal;
  challenge: string;
  name: string;
  expiresAt: number;
}

const sha256b64url = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * `hangar login --browser`: the signed-in browser (a password or single sign-on) says yes to a
 * CLI on this computer; the CLI receives a one-time code on its loopback port and trades it,
 * with the verifier only it knows (PKCE, S256), for an API token of that person. A code is
 * single use and lives two minutes; the token is made only when the CLI comes for it.
 */
export class CliLoginService {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly auth: Pick<AuthService, 'createToken'>,
    private readonly now: () => number = Date.now,
  ) {}

  issue(principal: Principal, challenge: string, name: string): { code: string; expiresAt: number } {
    this.sweep();
    while (this.pending.size >= MAX_CODES) this.pending.delete(this.pending.keys().next().value!);
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + TTL_MS;
    this.pending.set(code, { principal, challenge, name, expiresAt });
    return { code, expiresAt };
  }

  /** The token for a code and its verifier; any mismatch is the same answer (nothing to learn by guessing). */
  async redeem(code: string, verifier: string): Promise<{ created: CreatedToken; principal: Principal }> {
    this.sweep();
    const p = this.pending.get(code);
    // Used up whatever happens next: a code is tried once.
    this.pending.delete(code);
    const given = Buffer.from(sha256b64url(verifier));
    const want = Buffer.from(p?.challenge ?? '');
    if (!p || given.length !== want.length || !timingSafeEqual(given, want))
      throw new BadRequestError('This sign-in code is unknown, used or expired, or the verifier does not match: run hangar login --browser again.');
    const created = await this.auth.createToken(p.principal, { name: p.name });
    return { created, principal: p.principal };
  }

  private sweep(): void {
    const now = this.now();
    for (const [code, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(code);
  }
}
