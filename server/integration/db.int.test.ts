import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Store } from '@/db/client';
import { appendJobLogs, countJobsByKindAndState, failUnfinishedJobs, getJob, getJobLogs, insertJob, listJobs, updateJob } from '@/db/repo/jobs';
import { insertMachine, listMachines } from '@/db/repo/machines';
import { findSessionByHash, insertSession } from '@/db/repo/sessions';
import { readSettingRows, writeSetting } from '@/db/repo/settings';
import { findTokenByHash, insertToken, listTokens, revokeToken } from '@/db/repo/tokens';
import { countUsers, findUserRowByUsername, insertUser } from '@/db/repo/users';
import { insertAuditEvent, listAuditEvents } from '@/db/repo/audit';
import * as hooks from '@/db/repo/webhooks';
import * as sched from '@/db/repo/schedules';
import { insertSnapshot } from '@/db/repo/snapshots';

const migrationsDir = path.resolve('db/migrations');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-db-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const dialects: [string, () => Store][] = [
  ['sqlite', () => openDatabase({ sqlitePath: path.join(tmp, 'round-trip.db'), migrationsDir })],
  ['postgres', () => openDatabase({ url: inject('postgresUrl'), sqlitePath: '/nonexistent', migrationsDir })],
];

describe.each(dialects)('%s', (dialect, open) => {
  it('migrates (twice: idempotent) and round-trips every repository', async () => {
    const s = open();
    try {
      expect(s.dialect).toBe(dialect);
      await s.migrate();
      await s.migrate();
      const now = Date.now();
      const u = await insertUser(s, { id: 'usr_aaaaaaaaaaaaaaaaaaaa', username: 'alice', passwordHash: 'scrypt$x', role: 'operator', now });
      expect(u).toEqual({ id: 'usr_aaaaaaaaaaaaaaaaaaaa', username: 'alice', role: 'operator', disabled: false, createdAt: now });
      await expect(insertUser(s, { id: 'usr_bbbbbbbbbbbbbbbbbbbb', username: 'alice', passwordHash: 'x', role: 'viewer', now })).rejects.toThrow();
      expect(await countUsers(s)).toBe(1);
      expect((await findUserRowByUsername(s, 'alice'))?.passwordHash).toBe('scrypt$x');

      await insertSession(s, { id: 'ses_aaaaaaaaaaaaaaaaaaaa', userId: u.id, tokenHash: 'h1', now, expiresAt: now + 1000, ip: '127.0.0.1', userAgent: 'ua' });
      expect(await findSessionByHash(s, 'h1')).toMatchObject({ session: { expiresAt: now + 1000 }, user: { username: 'alice' } });

      const tok = await insertToken(s, { id: 'tok_aaaaaaaaaaaaaaaaaaaa', userId: u.id, name: 'cli', tokenHash: 'th', role: 'viewer', now, expiresAt: null });
      expect(tok).toMatchObject({ name: 'cli', role: 'viewer', lastUsedAt: null, expiresAt: null });
      expect((await findTokenByHash(s, 'th'))?.user.username).toBe('alice');
      expect(await revokeToken(s, u.id, tok.id, now)).toBe(true);
      expect(await revokeToken(s, u.id, tok.id, now)).toBe(false);
      expect(await findTokenByHash(s, 'th')).toBeUndefined();
      expect(await listTokens(s, u.id)).toEqual([]);

      const job = {
        id: 'job_aaaaaaaaaaaaaaaaaaaa',
        kind: 'demo',
        title: 'T',
        state: 'running' as const,
        progress: 5,
        message: 'm',
        error: null,
        result: null,
        ownerId: u.id,
        machineId: null,
        parentId: null,
        createdAt: now,
        startedAt: now,
        finishedAt: null,
      };
      await insertJob(s, job);
      // A job another job started: found by its parent.
      await insertJob(s, { ...job, id: 'job_bbbbbbbbbbbbbbbbbbbb', parentId: job.id, state: 'succeeded', finishedAt: now });
      expect((await listJobs(s, { parentId: job.id, limit: 10 })).map((j) => j.id)).toEqual(['job_bbbbbbbbbbbbbbbbbbbb']);
      expect(await updateJob(s, job.id, { progress: 60, result: { big: 2 ** 40 } })).toMatchObject({ progress: 60, result: { big: 2 ** 40 } });
      await appendJobLogs(s, job.id, [
        { seq: 0, ts: now, line: 'a' },
        { seq: 1, ts: now, line: 'ünïcödé ✓' },
      ]);
      expect((await getJobLogs(s, job.id, 0)).map((l) => l.line)).toEqual(['ünïcödé ✓']);
      expect(await listJobs(s, { ownerId: u.id, limit: 10 })).toHaveLength(2);
      expect(await failUnfinishedJobs(s, 'restart', now)).toBe(1);
      expect(await getJob(s, job.id)).toMatchObject({ state: 'failed', error: 'restart' });
      expect((await countJobsByKindAndState(s)).sort((a, b) => a.state.localeCompare(b.state))).toEqual([
        { kind: 'demo', state: 'failed', n: 1 },
        { kind: 'demo', state: 'succeeded', n: 1 },
      ]);

      await insertMachine(s, {
        id: 'mch_aaaaaaaaaaaaaaaaaaaa',
        name: 'web',
        driver: 'qemu',
        image: 'busybox',
        state: 'stopped',
        stateReason: null,
        cpus: 2,
        memoryMib: 512,
        diskGib: 4,
        ports: [{ host: 8080, guest: 80, protocol: 'tcp' }],
        ownerId: u.id,
        createdAt: now,
        updatedAt: now,
      });
      expect(await listMachines(s)).toMatchObject([{ name: 'web', ports: [{ host: 8080, guest: 80 }] }]);

      await writeSetting(s, 'consoleHostShell', true, now);
      await writeSetting(s, 'consoleHostShell', false, now + 1);
      expect(await readSettingRows(s)).toEqual({ consoleHostShell: false });

      await insertAuditEvent(s, {
        id: 'aud_aaaaaaaaaaaaaaaaaaaa',
        ts: now,
        actorKind: 'user',
        actorId: u.id,
        actorName: 'alice',
        action: 'x.y',
        targetKind: null,
        targetId: null,
        ip: null,
        detail: { a: 1 },
      });
      expect(await listAuditEvents(s, { limit: 10 })).toMatchObject([{ action: 'x.y', detail: { a: 1 } }]);

      // Webhooks: the secret kept for signing, deliveries newest first, the oldest finished ones pruned, gone with their hook.
      const hook = { id: 'whk_aaaaaaaaaaaaaaaaaaaa', url: 'https://example.com/h', eventsJson: '["machine.state"]', secret: 'whsec_x' };
      await hooks.insertWebhook(s, { ...hook, description: null, enabled: true, createdBy: u.id, createdAt: now, updatedAt: now });
      await hooks.updateWebhookRow(s, hook.id, { enabled: false });
      expect(await hooks.listWebhookRows(s)).toMatchObject([{ ...hook, enabled: false }]);
      const delivery = (i: number, state: 'succeeded' | 'retrying') => ({
        id: `whd_aaaaaaaaaaaaaaaaaaa${i}`,
        webhookId: hook.id,
        event: 'machine.state',
        body: '{}',
        state,
        attempts: 1,
        responseCode: 200,
        durationMs: 5,
        error: null,
        createdAt: now + i,
        lastAttemptAt: now + i,
        nextAttemptAt: null,
        redeliveryOf: null,
      });
      for (let i = 0; i < 5; i++) await hooks.insertDelivery(s, delivery(i, i === 0 ? 'retrying' : 'succeeded'));
      await hooks.pruneDeliveries(s, hook.id, 2);
      // The two newest stay, and the one still being retried.
      expect((await hooks.listDeliveries(s, hook.id)).map((d) => d.id.slice(-1))).toEqual(['4', '3', '0']);
      expect((await hooks.listUnfinishedDeliveries(s)).map((d) => d.state)).toEqual(['retrying']);
      expect(await hooks.deleteWebhookRow(s, hook.id)).toBe(true);
      expect(await hooks.getDelivery(s, delivery(4, 'succeeded').id)).toBeUndefined();

      // Schedules: the row round-trips; the snapshots a schedule took of a machine (complete ones) are what its retention sees.
      const row = { id: 'sch_aaaaaaaaaaaaaaaaaaaa', machineId: 'mch_sched0000000000000', tag: null, cron: '0 3 * * *', timeZone: 'Europe/Berlin' };
      const rest = { keepJson: '{"last":2}', enabled: true, createdBy: u.id, createdAt: now, updatedAt: now, nextRunAt: now + 10, lastRunAt: null };
      await sched.insertSchedule(s, { ...row, ...rest, lastStatus: null, lastJobId: null, lastError: null, backupTargetId: null, backupKeep: null });
      await sched.updateScheduleRow(s, row.id, { lastStatus: 'succeeded', lastRunAt: now + 1 });
      expect(await sched.listScheduleRows(s)).toMatchObject([{ ...row, lastStatus: 'succeeded', lastRunAt: now + 1, enabled: true }]);
      const snap = (i: number, state: 'complete' | 'failed') =>
        insertSnapshot(s, {
          id: `snp_sched00000000000${i}`,
          machineId: row.machineId,
          scheduleId: row.id,
          kind: 'live',
          label: `s${i}`,
          state,
          path: '/x',
          createdAt: now + i,
        });
      await snap(1, 'complete');
      await snap(2, 'failed');
      expect((await sched.scheduledSnapshots(s, row.id, row.machineId)).map((x) => x.label)).toEqual(['s1']);
      await sched.deleteMachineSchedules(s, row.machineId);
      expect(await sched.getScheduleRow(s, row.id)).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});
