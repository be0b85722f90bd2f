import { cliLoginBodySchema, cliLoginCodeSchema, cliTokenBodySchema, createdTokenSchema } from '@/lib/contracts/auth';
import { defineRoute } from './route';

/** `hangar login --browser`: the browser's yes (a signed-in person), then the CLI's trade of the code for a token. */
export const cliLoginRoutes = [
  defineRoute({
    method: 'post',
    path: '/auth/cli-login',
    name: 'approveCliLogin',
    tag: 'auth',
    summary: 'Say yes to a CLI on this computer: a one-time code (two minutes) the page hands to the CLI on its loopback port',
    access: 'member',
    status: 201,
    body: cliLoginBodySchema,
    response: cliLoginCodeSchema,
    handler: async ({ core, principal, body, ip }) => {
      const r = core.cliLogin.issue(principal, body.challenge, body.name);
      await core.audit.record(principal, { action: 'token.cli_login', target: { kind: 'user', id: principal.user.id }, ip, detail: { name: body.name } });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/auth/cli-token',
    name: 'redeemCliLogin',
    tag: 'auth',
    summary: 'Trade a CLI sign-in code and its verifier for an API token of the person who said yes (once); the secret is returned once',
    access: 'public',
    status: 201,
    body: cliTokenBodySchema,
    response: createdTokenSchema,
    handler: async ({ core, body, ip }) => {
      const { created, principal } = await core.cliLogin.redeem(body.code, body.verifier);
      await core.audit.record(principal, {
        action: 'token.create',
        target: { kind: 'token', id: created.token.id },
        ip,
        detail: { role: created.token.role, via: 'cli-login' },
      });
      return created;
    },
  }),
];
