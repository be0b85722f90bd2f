import { z } from 'zod';
import { auditEventSchema, auditPageSchema, auditQuerySchema } from '@/lib/contracts/audit';
import { pageFromRows, parseTimeIdKey, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

const AUDIT_PAGE = 200;

const filterOf = (q: z.infer<typeof auditQuerySchema>) => ({
  action: q.action,
  actor: q.actor,
  targetId: q.target,
  since: q.since,
  until: q.until,
});

export const auditRoutes = [
  defineRoute({
    method: 'get',
    path: '/audit',
    name: 'listAuditEvents',
    tag: 'audit',
    summary: 'Audit events, newest first, filtered; `next` pages on',
    access: 'admin',
    query: auditQuerySchema,
    list: { defaultLimit: AUDIT_PAGE, maxLimit: 1000 },
    response: auditPageSchema,
    handler: async ({ core, query, page }) => {
      const limit = page.limit ?? AUDIT_PAGE;
      const after = page.after === undefined ? undefined : parseTimeIdKey(page.after);
      const rows = await core.audit.list({ ...filterOf(query), limit: limit + 1, ...(after ? { before: { ts: after.n, id: after.id } } : {}) });
      return pageFromRows(rows, limit, (e) => timeIdKey(e.ts, e.id));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/audit/export',
    name: 'exportAuditEvents',
    tag: 'audit',
    summary: 'Every matching audit event as JSON lines (a download)',
    access: 'admin',
    query: auditQuerySchema,
    response: z.unknown(),
    produces: { type: 'application/x-ndjson', description: 'One audit event per line (an attachment)', schema: auditEventSchema },
    handler: async ({ core, query, principal, ip }) => {
      await core.audit.record(principal, { action: 'audit.export', ip, detail: { filter: filterOf(query) } });
      const events = core.audit.all(filterOf(query));
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          const batch: string[] = [];
          for (let i = 0; i < 500; i++) {
            const n = await events.next();
            if (n.done) {
              if (batch.length) ctl.enqueue(enc.encode(batch.join('')));
              return ctl.close();
            }
            batch.push(`${JSON.stringify(n.value)}\n`);
          }
          ctl.enqueue(enc.encode(batch.join('')));
        },
      });
      return new Response(body, {
        headers: {
          'Content-Type': 'application/x-ndjson; charset=utf-8',
          'Content-Disposition': `attachment; filename="hangar-audit-${new Date().toISOString().slice(0, 10)}.jsonl"`,
          'Cache-Control': 'no-store',
        },
      }) as never;
    },
  }),
];
