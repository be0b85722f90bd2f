import { z } from 'zod';
import { listOf } from '@/lib/contracts/common';
import {
  backupIdSchema,
  backupSchema,
  backupTargetSchema,
  createBackupBodySchema,
  createBackupTargetBodySchema,
  restoreBackupBodySchema,
} from '@/lib/contracts/backups';
import { jobSchema } from '@/lib/contracts/jobs';
import { pageOf, padKey } from '@/server/core/paging';
import { defineRoute } from './route';

// Targets reach outside the host (a bucket, a host directory): admins set them; operators back up and restore.
const targetParams = z.object({ target: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a target id or name') });
const backupParams = targetParams.extend({ backup: backupIdSchema });
const snapshotParams = z.object({
  snapshot: z
    .string()
    .min(1)
    .max(120)
    // eslint-disable-next-line no-control-regex -- labels cannot hold them either
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters')
    .describe('a snapshot id, or its label when exactly one snapshot has it'),
});

export const backupRoutes = [
  defineRoute({
    method: 'get',
    path: '/backup-targets',
    name: 'listBackupTargets',
    tag: 'backups',
    summary: 'Backup targets (never their secret keys), by name; operators see them to choose one',
    access: 'operator',
    list: {},
    response: listOf(backupTargetSchema),
    handler: async ({ core, page }) => pageOf(await core.backups.targets.list(), page, (t) => t.name),
  }),
  defineRoute({
    method: 'post',
    path: '/backup-targets',
    name: 'createBackupTarget',
    tag: 'backups',
    summary: 'Add an S3-compatible or directory target; a write and delete test runs first (wrong keys, a missing bucket or directory: 400)',
    access: 'admin',
    status: 201,
    errors: [409],
    body: createBackupTargetBodySchema,
    response: backupTargetSchema,
    handler: async ({ core, principal, body, ip }) => {
      const t = await core.backups.addTarget(principal.user.id, body);
      await core.audit.record(principal, {
        action: 'backup_target.create',
        target: { kind: 'backup_target', id: t.id },
        ip,
        detail: { name: t.name, kind: t.kind },
      });
      return t;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/backup-targets/{target}',
    name: 'deleteBackupTarget',
    tag: 'backups',
    summary: 'Forget a target (what it holds stays there)',
    access: 'admin',
    params: targetParams,
    response: backupTargetSchema,
    handler: async ({ core, principal, params, ip }) => {
      const t = await core.backups.targets.remove(params.target);
      await core.audit.record(principal, { action: 'backup_target.delete', target: { kind: 'backup_target', id: t.id }, ip, detail: { name: t.name } });
      return t;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backup-targets/{target}/backups',
    name: 'listBackups',
    tag: 'backups',
    summary: 'The backups a target holds, newest first',
    access: 'operator',
    params: targetParams,
    list: {},
    response: listOf(backupSchema),
    handler: async ({ core, params, page }) =>
      pageOf(await core.backups.list(params.target), page, (b) => `${padKey(Number.MAX_SAFE_INTEGER - b.createdAt)}:${b.id}`),
  }),
  defineRoute({
    method: 'delete',
    path: '/backup-targets/{target}/backups/{backup}',
    name: 'deleteBackup',
    tag: 'backups',
    summary: 'Delete a backup; layers and files no other backup names go with it',
    access: 'operator',
    params: backupParams,
    response: z.object({ removedObjects: z.number().int().nonnegative() }),
    handler: async ({ core, principal, params, ip }) => {
      const r = await core.backups.remove(params.target, params.backup);
      await core.audit.record(principal, {
        action: 'backup.delete',
        target: { kind: 'backup', id: params.backup },
        ip,
        detail: { target: params.target, ...r },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/backup-targets/{target}/backups/{backup}/restore',
    name: 'restoreBackup',
    tag: 'backups',
    summary: 'Restore a backup into a new machine (every object checked before anything runs); returns the job',
    access: 'operator',
    status: 202,
    errors: [409],
    params: backupParams,
    body: restoreBackupBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const job = await core.backups.restore(principal, params.target, params.backup, body.name);
      await core.audit.record(principal, { action: 'backup.restore', target: { kind: 'backup', id: params.backup }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/{snapshot}/backup',
    owner: { snapshot: 'snapshot' },
    name: 'backupSnapshot',
    tag: 'backups',
    summary: 'Back up a snapshot to a target (layers the target holds already are not uploaded again); returns the job',
    access: 'operator',
    status: 202,
    errors: [409],
    params: snapshotParams,
    body: createBackupBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const { id } = await core.snapshots.resolve(params.snapshot);
      const job = await core.backups.backup(principal, id, body.target);
      await core.audit.record(principal, { action: 'snapshot.backup', target: { kind: 'snapshot', id }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
];
