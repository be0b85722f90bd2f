import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { webhookPayloadSchema } from '@/lib/contracts/webhooks';
import { run } from '@/server/drivers/exec';
import { verifySignature } from '@/server/core/webhooks/sign';
import { adminToken, jobDone, serverWithBusybox, tearDown, until, type RunningServer } from './harness';
import { startReceiver } from './webhook-receiver';

/**
 * What Hangar gives the tools people already run: Prometheus reads /metrics (checked by Debian's
 * promtool, with a real QEMU machine's series), and webhooks reach a real HTTP receiver, signed,
 * retried, never in the way of machine operations, and never to this host unless an admin allows it.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const finished = (job: Job) => jobDone(api, job);
const scrape = (auth?: string) => fetch(`${srv.url}/metrics`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });

beforeAll(async () => {
  // Short waits between attempts (retries play out in a second); a hung receiver is given 30 s, longer than the test takes.
  ({ srv, token, api } = await serverWithBusybox({ env: { HANGAR_WEBHOOK_BACKOFF_MS: '300', HANGAR_WEBHOOK_TIMEOUT_MS: '30000' } }));
  receiver = await startReceiver();
  const made = await finished(await api.machines.create({ name: 'mx-1', image: 'busybox', memoryMib: 128, tags: ['web', 'blue'] }));
  expect(made.error).toBeNull();
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
  await receiver?.close();
}, 120_000);

describe('GET /metrics', () => {
  it('answers 401 with the envelope without a token or with a wrong one, 403 to a viewer, 200 to an admin token', async () => {
    for (const auth of [undefined, 'hgm_wrong', 'not-a-token']) {
      const res = await scrape(auth);
      expect(res.status, String(auth)).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    const viewer = await scrape(await adminToken(srv.url, 'viewer'));
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toMatchObject({ error: { code: 'forbidden' } });
    const ok = await scrape(token);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('takes the scrape token made in Settings (shown once) until it is replaced or removed', async () => {
    expect(await api.metrics.tokenInfo()).toEqual({ configured: false, createdAt: null });
    const first = await api.metrics.newToken();
    expect(first.token).toMatch(/^hgm_/);
    expect((await scrape(first.token)).status).toBe(200);
    const second = await api.metrics.newToken();
    expect((await scrape(first.token)).status).toBe(401);
    expect((await scrape(second.token)).status).toBe(200);
    expect((await api.metrics.tokenInfo()).configured).toBe(true);
    await api.metrics.removeToken();
    expect((await scrape(second.token)).status).toBe(401);
    expect((await api.audit.list({ action: 'metrics.token_create' })).items).toHaveLength(2);
  });

  it('passes promtool check metrics and holds the server and machine series', async () => {
    await api.machines.get('mx-1');
    const text = await until(
      async () => {
        const t = await (await scrape(token)).text();
        return /hangar_machine_cpu_seconds_total\{[^}]*name="mx-1"[^}]*\} [1-9e.0-9-]+/.test(t) ? t : null;
      },
      'machine CPU seconds in /metrics',
      20_000,
      500,
    );
    const check = await run(['promtool', 'check', 'metrics'], { input: text, timeoutMs: 30_000 });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
    const labels = `name="mx-1",driver="qemu",node="${os.hostname()}",tags=",web,blue,"`;
    expect(text).toContain(`hangar_machine_state{${labels},state="running"} 1`);
    expect(text).toContain(`hangar_machine_state{${labels},state="stopped"} 0`);
    expect(text).toContain(`hangar_machine_memory_limit_bytes{${labels}} ${128 * 2 ** 20}`);
    expect(text).toMatch(new RegExp(`hangar_machine_memory_bytes\\{${labels}\\} [1-9]`));
    expect(text).toMatch(/hangar_machine_disk_read_bytes_total\{[^}]*name="mx-1"/);
    expect(text).toMatch(/hangar_http_requests_total\{method="GET",route="\/api\/machines\/\{ref\}",status="200"\} [1-9]/);
    expect(text).toMatch(/hangar_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/machines\/\{ref\}"\} [1-9]/);
    expect(text).toMatch(/hangar_jobs\{kind="machine.create",state="succeeded"\} 1/);
    expect(text).toMatch(/hangar_job_duration_seconds_count\{kind="machine.create",state="succeeded"\} 1/);
    expect(text).toMatch(/hangar_event_loop_lag_seconds \d/);
    expect(text).toMatch(/hangar_sockets_open\{namespace="\/events"\} 0/);
  }, 60_000);
});

describe('webhooks', () => {
  let okId: string;
  let okSecret: string;

  it('refuses this host (loopback) unless an admin allows private targets, and any scheme but http(s)', async () => {
    const body = { url: receiver.url('/ok'), events: ['machine.state' as const] };
    await expect(api.webhooks.create(body)).rejects.toMatchObject({ status: 400, issues: [expect.objectContaining({ path: 'url' })] });
    await expect(api.webhooks.create({ ...body, url: 'http://2130706433:9/' })).rejects.toMatchObject({ status: 400 });
    await expect(api.webhooks.create({ ...body, url: 'file:///etc/passwd' })).rejects.toMatchObject({ status: 400 });
    await expect(api.webhooks.create({ ...body, events: [] })).rejects.toMatchObject({ status: 400 });
    expect((await api.webhooks.list()).items).toEqual([]);
    await api.settings.update({ webhookAllowPrivate: true });
  });

  it('delivers signed events while a receiver that never answers holds its requests: machine operations do not wait', async () => {
    const events = ['machine.state' as const, 'job.succeeded' as const];
    const ok = await api.webhooks.create({ url: receiver.url('/ok'), events, description: 'test receiver' });
    okId = ok.webhook.id;
    okSecret = ok.secret;
    expect(okSecret).toMatch(/^whsec_/);
    expect(JSON.stringify(await api.webhooks.get(okId))).not.toContain(okSecret);
    await api.webhooks.create({ url: receiver.url('/hang'), events, secret: 'a-secret-of-my-own-choosing' });

    expect((await finished(await api.machines.act('mx-1', 'pause'))).state).toBe('succeeded');
    await until(() => receiver.hangingNow() > 0, '/hang to hold a delivery');
    // /hang holds its deliveries (for 30 s here) while the resume runs and /ok gets its own: nothing waits for it.
    expect((await finished(await api.machines.act('mx-1', 'resume'))).state).toBe('succeeded');
    expect(receiver.hangingNow()).toBeGreaterThan(0);
    expect((await api.machines.get('mx-1')).state).toBe('running');

    const states = await until(() => {
      const got = receiver.at('/ok').map((g) => ({ g, p: webhookPayloadSchema.parse(JSON.parse(g.body)) }));
      const s = got.filter((x) => x.p.event === 'machine.state').map((x) => (x.p.data.machine as { state: string }).state);
      return s.includes('paused') && s.at(-1) === 'running' && got.some((x) => x.p.event === 'job.succeeded') ? got : null;
    }, 'machine.state and job.succeeded at /ok');
    for (const { g } of states) {
      expect(g.headers['content-type']).toBe('application/json');
      expect(verifySignature(okSecret, String(g.headers['hangar-signature']), g.body)).toBe(true);
      expect(verifySignature('whsec_not-the-secret-at-all', String(g.headers['hangar-signature']), g.body)).toBe(false);
    }
    const deliveries = (await api.webhooks.deliveries(okId)).items;
    expect(deliveries.length).toBeGreaterThanOrEqual(states.length);
    expect(deliveries.find((d) => d.state === 'succeeded')).toMatchObject({ responseCode: 200, attempts: 1, error: null, durationMs: expect.any(Number) });
    expect(receiver.hangingNow()).toBeGreaterThan(0);
  }, 60_000);

  it('retries a receiver that answers 500 (then 200), and sends a delivery again by hand', async () => {
    const flaky = await api.webhooks.create({ url: receiver.url('/flaky'), events: ['user.created'] });
    await api.users.create({ username: 'hooked-user', role: 'viewer' });
    const done = await until(async () => (await api.webhooks.deliveries(flaky.webhook.id)).items.find((d) => d.state === 'succeeded'), 'a retried delivery');
    expect(done).toMatchObject({ event: 'user.created', attempts: 2, responseCode: 200 });
    const tries = receiver.at('/flaky');
    expect(tries.map((t) => t.headers['hangar-delivery'])).toEqual([done.id, done.id]);
    const p = webhookPayloadSchema.parse(JSON.parse(tries[1].body));
    expect(p.data).toMatchObject({ action: 'user.create', detail: { username: 'hooked-user' } });

    const again = await api.webhooks.redeliver(flaky.webhook.id, done.id);
    expect(again).toMatchObject({ redeliveryOf: done.id, state: 'pending' });
    await until(
      async () => (await api.webhooks.deliveries(flaky.webhook.id)).items.find((d) => d.id === again.id && d.state === 'succeeded'),
      'the redelivery',
    );
    expect(receiver.at('/flaky').at(-1)!.body).toBe(tries[0].body);
    await expect(api.webhooks.redeliver(flaky.webhook.id, 'whd_nosuchdelivery00')).rejects.toMatchObject({ status: 404 });
  }, 60_000);

  it('checks the address again at send time: with private targets no longer allowed, a saved loopback hook is refused', async () => {
    await api.settings.update({ webhookAllowPrivate: false });
    const before = receiver.at('/ok').length;
    await api.machines.update('mx-1', { tags: ['web'] });
    await finished(await api.machines.act('mx-1', 'pause'));
    const refused = await until(
      async () => (await api.webhooks.deliveries(okId)).items.find((d) => d.state === 'failed' && d.error?.startsWith('refused:')),
      'a refused delivery',
    );
    expect(refused).toMatchObject({ attempts: 1, responseCode: null });
    expect(receiver.at('/ok').length).toBe(before);
    await api.settings.update({ webhookAllowPrivate: true });
    await finished(await api.machines.act('mx-1', 'resume'));
  }, 60_000);

  it('lists, changes and deletes webhooks (audited, the secret never in the log), also from the CLI', async () => {
    const cli = (args: string[]) =>
      run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 60_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token, XDG_CONFIG_HOME: os.tmpdir() } });
    const ls = await cli(['webhooks', 'ls', '--json']);
    expect(ls.code).toBe(0);
    expect((JSON.parse(ls.stdout) as { id: string }[]).map((w) => w.id)).toContain(okId);
    expect((await api.webhooks.update(okId, { enabled: false })).enabled).toBe(false);
    const dl = await cli(['webhooks', 'deliveries', okId]);
    expect(dl.stdout).toMatch(/machine\.state\s+succeeded 200/);
    const bad = await cli(['webhooks', 'add', receiver.url('/ok'), '--event', 'nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not an event/);
    expect((await cli(['webhooks', 'rm', okId])).code).toBe(0);
    await expect(api.webhooks.deliveries(okId)).rejects.toMatchObject({ status: 404 });
    const audit = (await api.audit.list({ action: 'webhook.' })).items;
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['webhook.create', 'webhook.update', 'webhook.delete', 'webhook.redeliver']));
    expect(JSON.stringify(audit)).not.toContain(okSecret);
  }, 60_000);
});
