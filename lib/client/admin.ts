import { listOf, okSchema, type PageQuery } from '@/lib/contracts/common';
import { healthSchema } from '@/lib/contracts/health';
import { hostInfoSchema } from '@/lib/contracts/host';
import { joinTokenSchema, nodeSchema, openJoinTokenSchema, type CreateJoinTokenBody } from '@/lib/contracts/nodes';
import { jobSchema } from '@/lib/contracts/jobs';
import { hostUsageSchema, machineStatsListSchema } from '@/lib/contracts/stats';
import { driverInfoSchema } from '@/lib/contracts/machines';
import { settingsSchema, type SettingsPatch } from '@/lib/contracts/settings';
import { createdScrapeTokenSchema, scrapeTokenInfoSchema } from '@/lib/contracts/metrics';
import { scheduleSchema, type CreateScheduleBody } from '@/lib/contracts/schedules';
import { undoRingSchema, type UndoSettingsBody } from '@/lib/contracts/undo';
import { sshHostKeysSchema, sshHostSchema, sshKeySchema, sshTunnelInfoSchema, type AddSshKeyBody } from '@/lib/contracts/ssh-keys';
import { createdWebhookSchema, webhookDeliverySchema, webhookSchema, type CreateWebhookBody, type UpdateWebhookBody } from '@/lib/contracts/webhooks';
import type { Transport } from './transport';

/** The host and its settings: health, nodes, drivers, stats, metrics, SSH, webhooks, schedules, undo. */
export function adminApi({ call, q }: Transport) {
  return {
    health: () => call('GET', '/health', healthSchema),
    /** The nodes of a cluster (PostgreSQL), or this host as the one node (SQLite); admins only. */
    nodes: {
      list: (p: PageQuery = {}) => call('GET', `/nodes${q({ ...p })}`, listOf(nodeSchema)),
      /** Join tokens still usable (never their secrets). */
      tokens: (p: PageQuery = {}) => call('GET', `/nodes/join-tokens${q({ ...p })}`, listOf(openJoinTokenSchema)),
      /** A single-use join token, shown once, with the `hangar up --cluster-join` line for the new node. */
      createToken: (b: CreateJoinTokenBody = {}) => call('POST', '/nodes/join-tokens', joinTokenSchema, b),
      revokeToken: (id: string) => call('DELETE', `/nodes/join-tokens/${encodeURIComponent(id)}`, okSchema),
      drain: (name: string) => call('POST', `/nodes/${encodeURIComponent(name)}/drain`, nodeSchema),
      undrain: (name: string) => call('POST', `/nodes/${encodeURIComponent(name)}/undrain`, nodeSchema),
      remove: (name: string) => call('DELETE', `/nodes/${encodeURIComponent(name)}`, okSchema),
    },
    host: { get: (refresh = false) => call('GET', `/host${refresh ? '?refresh=1' : ''}`, hostInfoSchema) },
    /** The machine drivers and what each can do on this host. */
    drivers: { list: () => call('GET', '/drivers', listOf(driverInfoSchema)) },
    stats: {
      host: () => call('GET', '/stats/host', hostUsageSchema),
      machines: () => call('GET', '/stats/machines', machineStatsListSchema),
    },
    settings: {
      get: () => call('GET', '/settings', settingsSchema),
      update: (p: SettingsPatch) => call('PATCH', '/settings', settingsSchema, p),
    },
    /** The Prometheus scrape token for GET /metrics (admins). */
    metrics: {
      tokenInfo: () => call('GET', '/metrics/token', scrapeTokenInfoSchema),
      newToken: () => call('POST', '/metrics/token', createdScrapeTokenSchema),
      removeToken: () => call('DELETE', '/metrics/token', scrapeTokenInfoSchema),
    },
    sshKeys: {
      list: (p: PageQuery = {}) => call('GET', `/ssh-keys${q({ ...p })}`, listOf(sshKeySchema)),
      add: (b: AddSshKeyBody) => call('POST', '/ssh-keys', sshKeySchema, b),
      remove: (id: string) => call('DELETE', `/ssh-keys/${encodeURIComponent(id)}`, sshKeySchema),
    },
    ssh: {
      hosts: (p: PageQuery = {}) => call('GET', `/ssh/hosts${q({ ...p })}`, listOf(sshHostSchema)),
      hostKeys: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/ssh-host-keys`, sshHostKeysSchema),
      tunnel: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/ssh-tunnel`, sshTunnelInfoSchema),
    },
    webhooks: {
      list: (p: PageQuery = {}) => call('GET', `/webhooks${q({ ...p })}`, listOf(webhookSchema)),
      get: (id: string) => call('GET', `/webhooks/${encodeURIComponent(id)}`, webhookSchema),
      create: (b: CreateWebhookBody) => call('POST', '/webhooks', createdWebhookSchema, b),
      update: (id: string, b: UpdateWebhookBody) => call('PATCH', `/webhooks/${encodeURIComponent(id)}`, webhookSchema, b),
      remove: (id: string) => call('DELETE', `/webhooks/${encodeURIComponent(id)}`, webhookSchema),
      deliveries: (id: string, p: PageQuery = {}) => call('GET', `/webhooks/${encodeURIComponent(id)}/deliveries${q({ ...p })}`, listOf(webhookDeliverySchema)),
      redeliver: (id: string, delivery: string) =>
        call('POST', `/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(delivery)}/redeliver`, webhookDeliverySchema),
    },
    schedules: {
      list: (p: PageQuery = {}) => call('GET', `/schedules${q({ ...p })}`, listOf(scheduleSchema)),
      get: (id: string) => call('GET', `/schedules/${encodeURIComponent(id)}`, scheduleSchema),
      ofMachine: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/schedules${q({ ...p })}`, listOf(scheduleSchema)),
      create: (b: CreateScheduleBody) => call('POST', '/schedules', scheduleSchema, b),
      remove: (id: string) => call('DELETE', `/schedules/${encodeURIComponent(id)}`, scheduleSchema),
      run: (id: string) => call('POST', `/schedules/${encodeURIComponent(id)}/run`, jobSchema),
    },
    undo: {
      get: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/undo`, undoRingSchema),
      enable: (ref: string, b: UndoSettingsBody) => call('PUT', `/machines/${encodeURIComponent(ref)}/undo`, undoRingSchema, b),
      disable: (ref: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}/undo`, undoRingSchema),
      undo: (ref: string, minutes: number) => call('POST', `/machines/${encodeURIComponent(ref)}/undo`, jobSchema, { minutes }),
    },
  };
}
