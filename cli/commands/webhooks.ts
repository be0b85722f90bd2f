import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { WEBHOOK_EVENTS, webhookEventSchema, type WebhookEvent } from '@/lib/contracts/webhooks';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar webhooks [ls | add URL --event E [--event E]... [--secret S] [--description D] | rm ID
       | deliveries ID | redeliver ID DELIVERY]
Events: ${WEBHOOK_EVENTS.join(' ')} (or machine.* job.* snapshot.* share.* user.* or all)`;

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

/** `machine.*` and `all` name several events; anything else must be one of the list. */
function events(given: string[]): WebhookEvent[] {
  if (!given.length) throw new CliError(`Name the events with --event.\n${USAGE}`, 2);
  const out = new Set<WebhookEvent>();
  for (const e of given.flatMap((g) => g.split(','))) {
    if (e === 'all') WEBHOOK_EVENTS.forEach((x) => out.add(x));
    else if (e.endsWith('.*')) {
      const found = WEBHOOK_EVENTS.filter((x) => x.startsWith(e.slice(0, -1)));
      if (!found.length) throw new CliError(`--event ${e}: no such events.\n${USAGE}`, 2);
      found.forEach((x) => out.add(x));
    } else if (webhookEventSchema.safeParse(e).success) out.add(e as WebhookEvent);
    else throw new CliError(`--event ${e}: not an event.\n${USAGE}`, 2);
  }
  return [...out];
}

const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '-');

/** hangar webhooks ...: signed deliveries of events to other services (admins). The secret is printed once. */
export async function webhooks(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub = 'ls', arg, ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (await client.webhooks.list()).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No webhooks. Add one: hangar webhooks add URL --event machine.*');
      for (const w of items) console.log(`${w.id}  ${w.enabled ? 'on ' : 'off'}  ${w.url}  ${w.events.join(',')}`);
      return;
    }
    case 'add': {
      const { values } = parseArgs({
        args: rest,
        options: { event: { type: 'string', multiple: true }, secret: { type: 'string' }, description: { type: 'string' } },
      });
      if (!arg) throw new CliError(USAGE, 2);
      const r = await client.webhooks.create({
        url: arg,
        events: events(values.event ?? []),
        ...(values.secret ? { secret: values.secret } : {}),
        ...(values.description ? { description: values.description } : {}),
      });
      if (json) return printJson(r);
      console.log(`Added ${r.webhook.id} -> ${r.webhook.url}\nSigning secret (shown once): ${r.secret}`);
      return;
    }
    case 'rm': {
      if (!arg) throw new CliError(USAGE, 2);
      const w = await client.webhooks.remove(arg);
      return json ? printJson(w) : console.log(`Deleted ${w.id} (${w.url}).`);
    }
    case 'deliveries': {
      if (!arg) throw new CliError(USAGE, 2);
      const items = (await client.webhooks.deliveries(arg)).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No deliveries yet.');
      for (const d of items) {
        const code = d.responseCode ?? '-';
        const ms = d.durationMs === null ? '-' : `${d.durationMs} ms`;
        const outcome = `${d.state.padEnd(9)} ${String(code).padEnd(4)} ${ms.padEnd(8)} x${d.attempts}`;
        console.log(`${d.id}  ${when(d.createdAt)}  ${d.event.padEnd(17)} ${outcome}  ${d.error ?? ''}`);
      }
      return;
    }
    case 'redeliver': {
      const delivery = rest[0];
      if (!arg || !delivery) throw new CliError(USAGE, 2);
      const d = await client.webhooks.redeliver(arg, delivery);
      return json ? printJson(d) : console.log(`Queued ${d.id} (a copy of ${delivery}).`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
