// The few parts of oidc-provider (a devDependency without types of its own) the test provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  interface Account {
    accountId: string;
    claims: () => Promise<Record<string, unknown>>;
  }
  export default class Provider {
    constructor(
      issuer: string,
      config: {
        clients: Record<string, unknown>[];
        findAccount: (ctx: unknown, sub: string) => Promise<Account | undefined>;
        claims?: Record<string, string[]>;
        scopes?: string[];
        conformIdTokenClaims?: boolean;
        pkce?: { required: () => boolean };
        features?: Record<string, { enabled: boolean }>;
        cookies?: { keys: string[] };
      },
    );
    on(event: string, fn: (...args: unknown[]) => void): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
