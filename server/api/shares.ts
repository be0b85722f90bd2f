import { idParams, listOf } from '@/lib/contracts/common';
import { createdShareSchema, createShareBodySchema, shareInfoSchema, shareSchema } from '@/lib/contracts/shares';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

export const shareRoutes = [
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/shares',
    // Rows only: any node answers.
    owner: 'any',
    name: 'createShare',
    tag: 'shares',
    summary: "Make a share link to this machine's console (the token is returned once)",
    access: 'operator',
    machineGrant: 'owner',
    status: 201,
    params: refParams,
    body: createShareBodySchema,
    response: createdShareSchema,
    handler: async ({ core, principal, machine, body, ip }) => {
      const r = await core.shares.create(principal, machine.id, body);
      await core.audit.record(principal, {
        action: 'share.create',
        target: { kind: 'machine', id: r.share.machineId },
        ip,
        detail: { shareId: r.share.id, role: r.share.role, expiresAt: r.share.expiresAt, label: r.share.label },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/shares',
    // Rows only: any node answers.
    owner: 'any',
    name: 'listShares',
    tag: 'shares',
    summary: "This machine's share links (never their tokens), newest first",
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    list: {},
    response: listOf(shareSchema),
    handler: async ({ core, principal, machine, page }) =>
      pageOf(await core.shares.list(principal, machine.id), page, (x) => timeIdKey(x.createdAt, x.id), true),
  }),
  defineRoute({
    method: 'delete',
    path: '/shares/{id}',
    name: 'revokeShare',
    tag: 'shares',
    summary: 'Revoke a share link: it stops working at once, its open consoles close',
    access: 'operator',
    params: idParams,
    response: shareSchema,
    handler: async ({ core, principal, params, ip }) => {
      const s = await core.shares.revoke(params.id);
      await core.audit.record(principal, { action: 'share.revoke', target: { kind: 'machine', id: s.machineId }, ip, detail: { shareId: s.id } });
      return s;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/share',
    name: 'getShareInfo',
    tag: 'shares',
    summary: 'For the holder of a share link (X-Hangar-Share): the machine it opens, and until when',
    access: 'viewer',
    share: true,
    response: shareInfoSchema,
    // Called without a share link: there is no link to describe.
    errors: [404],
    handler: async ({ core, principal }) => core.shares.info(principal),
  }),
];
