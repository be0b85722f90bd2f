import { z } from 'zod';
import { auditPageSchema, auditQuerySchema } from '@/lib/contracts/audit';
import { defineRoute } from './route';

const filterOf = (q: Omit<z.infer<typeof auditQuerySchema>, 'limit' | 'before'>) => ({
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
    tag: 'audit',
    summary: 'Audit events, newest first, filtered; `next` pages on',
    access: 'admin',
    query: auditQuerySchema,
    response: auditPageSchema,
    handler: async ({ core, query }) => {
      const [ts, id] = query.before?.split(':') ?? [];
      const items = await core.audit.list({ ...filterOf(query), limit: query.limit, ...(query.before ? { before: { ts: Number(ts), id } } : {}) });
      const last = items[items.length - 1];
      return { items, next: items.length === query.limit && last ? `${last.ts}:${last.id}` : null };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/audit/export',
    tag: 'audit',
    summary: 'Every matching audit event as JSON lines (a download)',
    access: 'admin',
    query: auditQuerySchema.omit({ before: true, limit: true }),
    response: z.string(),
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
