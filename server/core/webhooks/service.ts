import type { Store } from '@/db/client';
import * as repo from '@/db/repo/webhooks';
import type { CreateWebhookBody, UpdateWebhookBody, Webhook, WebhookDelivery, WebhookEvent, WebhookPayload } from '@/lib/contracts/webhooks';
import { webhookEventSchema } from '@/lib/contracts/webhooks';
import type { Principal } from '../auth';
import { BadRequestError, NotFoundError } from '../errors';
import { newId, newSecret } from '../ids';
import type { SettingsService } from '../settings';
import { DeliveryQueue, MAX_ATTEMPTS, backoffMs, type Task } from './queue';
import { attemptDelivery, ATTEMPT_TIMEOUT_MS } from './send';
import { resolveTarget, TargetRefused } from './ssrf';

/** Deliveries kept per webhook (newest first), finished ones beyond this go. */
export const KEPT_DELIVERIES = 50;

export interface WebhookOptions {
  backoffMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

const toWebhook = (r: repo.WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  events: (JSON.parse(r.eventsJson) as string[]).filter((e): e is WebhookEvent => webhookEventSchema.safeParse(e).success),
  description: r.description,
  enabled: r.enabled,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toDelivery = (r: repo.DeliveryRow): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhookId,
  event: r.event as WebhookEvent,
  state: r.state,
  attempts: r.attempts,
  responseCode: r.responseCode,
  durationMs: r.durationMs,
  error: r.error,
  createdAt: r.createdAt,
  lastAttemptAt: r.lastAttemptAt,
  nextAttemptAt: r.nextAttemptAt,
  redeliveryOf: r.redeliveryOf,
});

/**
 * Webhooks: kept in memory (every event asks which hooks want it), written through. `emit` is
 * synchronous and cheap: it builds the body and hands the delivery to a bounded queue; the row
 * is written and the receiver called later, off the caller's path.
 */
export class WebhookService {
  private hooks: repo.WebhookRow[] = [];
  private readonly queue: DeliveryQueue;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly settings: SettingsService,
    private readonly opts: WebhookOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.queue = new DeliveryQueue((t) => this.attempt(t), { backoffMs: opts.backoffMs, now: this.now });
  }

  /** Load the hooks, and send again what a stopped server left unsent. */
  async load(): Promise<void> {
    this.hooks = await repo.listWebhookRows(this.store);
    for (const d of await repo.listUnfinishedDeliveries(this.store)) {
      if (!this.queue.push({ deliveryId: d.id, hookId: d.webhookId, attempts: d.attempts, dueAt: this.now() })) break;
    }
  }

  stop(): void {
    this.queue.stop();
  }

  /** Deliveries waiting or being sent. */
  get queued(): number {
    return this.queue.size;
  }

  list(): Webhook[] {
    return this.hooks.map(toWebhook);
  }

  get(id: string): Webhook {
    return toWebhook(this.row(id));
  }

  private row(id: string): repo.WebhookRow {
    const r = this.hooks.find((h) => h.id === id);
    if (!r) throw new NotFoundError('Webhook');
    return r;
  }

  /** Refuse a URL that points at this host, link-local or loopback (unless allowed): the same check runs again at send time. */
  private async checkUrl(url: string): Promise<void> {
    try {
      await resolveTarget(url, this.settings.get().webhookAllowPrivate);
    } catch (e) {
      if (e instanceof TargetRefused) throw new BadRequestError(`Webhook URL refused: ${e.message}`, [{ path: 'url', message: e.message }]);
      throw e;
    }
  }

  async create(by: Principal, body: CreateWebhookBody): Promise<{ webhook: Webhook; secret: string }> {
    await this.checkUrl(body.url);
    const now = this.now();
    const secret = body.secret ?? newSecret('whsec_');
    const row: repo.WebhookRow = {
      id: newId('whk'),
      url: body.url,
      eventsJson: JSON.stringify(body.events),
      secret,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      createdBy: by.user.id,
      createdAt: now,
      updatedAt: now,
    };
    await repo.insertWebhook(this.store, row);
    this.hooks.push(row);
    return { webhook: toWebhook(row), secret };
  }

  async update(id: string, patch: UpdateWebhookBody): Promise<Webhook> {
    const cur = this.row(id);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    const set: Partial<repo.WebhookRow> = { updatedAt: this.now() };
    if (patch.url !== undefined) set.url = patch.url;
    if (patch.events !== undefined) set.eventsJson = JSON.stringify(patch.events);
    if (patch.description !== undefined) set.description = patch.description || null;
    if (patch.enabled !== undefined) set.enabled = patch.enabled;
    await repo.updateWebhookRow(this.store, id, set);
    Object.assign(cur, set);
    return toWebhook(cur);
  }

  async remove(id: string): Promise<Webhook> {
    const cur = this.row(id);
    await repo.deleteWebhookRow(this.store, id);
    this.hooks = this.hooks.filter((h) => h.id !== id);
    return toWebhook(cur);
  }

  async deliveries(id: string): Promise<WebhookDelivery[]> {
    this.row(id);
    return (await repo.listDeliveries(this.store, id)).map(toDelivery);
  }

  /** Send a past delivery's body again, as a new delivery (signed afresh). */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    this.row(id);
    const d = await repo.getDelivery(this.store, deliveryId);
    if (!d || d.webhookId !== id) throw new NotFoundError('Delivery');
    return toDelivery(await this.enqueue(id, d.event as WebhookEvent, d.body, d.id));
  }

  /** An event happened: queue a delivery to every enabled hook that asked for it. Never throws, never waits. */
  emit(event: WebhookEvent, data: Record<string, unknown>): void {
    const targets = this.hooks.filter((h) => h.enabled && (JSON.parse(h.eventsJson) as string[]).includes(event));
    if (!targets.length) return;
    const createdAt = this.now();
    for (const h of targets) {
      const payload: WebhookPayload = { id: newId('whd'), event, createdAt, data };
      this.enqueue(h.id, event, JSON.stringify(payload), null).catch((e: unknown) => console.error('webhook: could not queue a delivery:', e));
    }
  }

  private async enqueue(hookId: string, event: WebhookEvent, body: string, redeliveryOf: string | null): Promise<repo.DeliveryRow> {
    const row: repo.DeliveryRow = {
      id: newId('whd'),
      webhookId: hookId,
      event,
      body,
      state: 'pending',
      attempts: 0,
      responseCode: null,
      durationMs: null,
      error: null,
      createdAt: this.now(),
      lastAttemptAt: null,
      nextAttemptAt: this.now(),
      redeliveryOf,
    };
    await repo.insertDelivery(this.store, row);
    if (!this.queue.push({ deliveryId: row.id, hookId, attempts: 0, dueAt: this.now() })) {
      Object.assign(row, { state: 'failed', nextAttemptAt: null, error: 'not sent: the delivery queue is full' });
      await repo.updateDelivery(this.store, row.id, { state: row.state, nextAttemptAt: null, error: row.error });
    }
    await repo.pruneDeliveries(this.store, hookId, KEPT_DELIVERIES);
    return row;
  }

  /** One attempt of a queued delivery; records its outcome and says whether to try again. */
  private async attempt(t: Task) {
    const d = await repo.getDelivery(this.store, t.deliveryId);
    const hook = this.hooks.find((h) => h.id === t.hookId);
    if (!d || !hook) return { ok: false, retry: false, responseCode: null, durationMs: 0, error: 'webhook deleted' };
    const r = await attemptDelivery(
      { url: hook.url, secret: hook.secret, body: d.body, event: d.event, deliveryId: d.id, allowPrivate: this.settings.get().webhookAllowPrivate },
      this.opts.timeoutMs ?? ATTEMPT_TIMEOUT_MS,
    );
    const attempts = t.attempts + 1;
    // A refused target (SSRF check) will not change by waiting.
    const retry = !r.ok && attempts < MAX_ATTEMPTS && !r.error?.startsWith('refused:');
    const now = this.now();
    await repo.updateDelivery(this.store, d.id, {
      state: r.ok ? 'succeeded' : retry ? 'retrying' : 'failed',
      attempts,
      responseCode: r.responseCode,
      durationMs: r.durationMs,
      error: r.error,
      lastAttemptAt: now,
      nextAttemptAt: retry ? now + backoffMs(attempts, this.opts.backoffMs) : null,
    });
    return { ...r, retry };
  }
}
