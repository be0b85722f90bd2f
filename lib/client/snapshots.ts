import { z } from 'zod';
import { listOf, okSchema, type PageQuery } from '@/lib/contracts/common';
import { stepInfoSchema, stepTreeNodeSchema, type BuildBody } from '@/lib/contracts/steps';
import { diffResultSchema } from '@/lib/contracts/diff';
import { gcResultSchema, snapshotSchema, type ForkBody, type RestoreBody, type SnapshotForkBody } from '@/lib/contracts/snapshots';
import { backupSchema, backupTargetSchema, type CreateBackupTargetBody } from '@/lib/contracts/backups';
import { jobSchema } from '@/lib/contracts/jobs';
import type { Transport } from './transport';

/** Which files of a diff, and how many. */
export interface DiffOptions {
  limit?: number;
  path?: string;
}

/** Snapshots (restore, fork, diff, archives), build steps and backups to targets. */
export function snapshotsApi({ send, call, q }: Transport) {
  return {
    snapshots: {
      /** Oldest first (a parent before its children); every snapshot unless `limit` asks for a page. */
      list: (p: PageQuery = {}) => call('GET', `/snapshots${q({ ...p })}`, listOf(snapshotSchema)),
      get: (id: string) => call('GET', `/snapshots/${encodeURIComponent(id)}`, snapshotSchema),
      checkpoint: (machine: string, label?: string) => call('POST', `/machines/${encodeURIComponent(machine)}/checkpoint`, jobSchema, label ? { label } : {}),
      forkNow: (machine: string, b: ForkBody = {}) => call('POST', `/machines/${encodeURIComponent(machine)}/fork`, jobSchema, b),
      restore: (id: string, b: RestoreBody = {}) => call('POST', `/snapshots/${encodeURIComponent(id)}/restore`, jobSchema, b),
      fork: (id: string, b: SnapshotForkBody = {}) => call('POST', `/snapshots/${encodeURIComponent(id)}/fork`, jobSchema, b),
      gc: () => call('POST', '/snapshots/gc', gcResultSchema, {}),
      /** Files added, removed and changed from A to B; `path`: that file's unified diff too. */
      diff: (a: string, b: string, o: DiffOptions = {}) =>
        call('GET', `/snapshots/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}${q({ ...o })}`, diffResultSchema),
      /** A machine's files now against a snapshot (default: the one it runs on). */
      diffMachine: (machine: string, o: DiffOptions & { against?: string } = {}) =>
        call('GET', `/machines/${encodeURIComponent(machine)}/diff${q({ ...o })}`, diffResultSchema),
      /** The archive as a streamed Response (hangar snapshot export writes it to a file). */
      exportArchive: (id: string) => send('GET', `/snapshots/${encodeURIComponent(id)}/export`),
      importArchive: async (body: BodyInit) =>
        snapshotSchema.parse(await (await send('POST', '/snapshots/import', { body, contentType: 'application/x-tar' })).json()),
      relabel: (id: string, label: string) => call('PATCH', `/snapshots/${encodeURIComponent(id)}`, snapshotSchema, { label }),
      hot: (id: string, hot: boolean) => call('POST', `/snapshots/${encodeURIComponent(id)}/hot`, snapshotSchema, { hot }),
      remove: (id: string, cascade = false) => call('DELETE', `/snapshots/${encodeURIComponent(id)}${cascade ? '?cascade=true' : ''}`, okSchema),
    },
    steps: {
      catalog: (p: PageQuery = {}) => call('GET', `/steps/catalog${q({ ...p })}`, listOf(stepInfoSchema)),
      nodes: (p: PageQuery = {}) => call('GET', `/steps/nodes${q({ ...p })}`, listOf(stepTreeNodeSchema)),
      build: (b: BuildBody) => call('POST', '/steps/build', jobSchema, b),
      invalidate: (key: string) => call('DELETE', `/steps/nodes/${encodeURIComponent(key)}`, z.object({ removed: z.number() })),
    },
    backups: {
      targets: () => call('GET', '/backup-targets', listOf(backupTargetSchema)),
      addTarget: (b: CreateBackupTargetBody) => call('POST', '/backup-targets', backupTargetSchema, b),
      removeTarget: (target: string) => call('DELETE', `/backup-targets/${encodeURIComponent(target)}`, backupTargetSchema),
      list: (target: string, p: PageQuery = {}) => call('GET', `/backup-targets/${encodeURIComponent(target)}/backups${q({ ...p })}`, listOf(backupSchema)),
      create: (snapshot: string, target: string) => call('POST', `/snapshots/${encodeURIComponent(snapshot)}/backup`, jobSchema, { target }),
      restore: (target: string, backup: string, name: string) =>
        call('POST', `/backup-targets/${encodeURIComponent(target)}/backups/${encodeURIComponent(backup)}/restore`, jobSchema, { name }),
      remove: (target: string, backup: string) =>
        call('DELETE', `/backup-targets/${encodeURIComponent(target)}/backups/${encodeURIComponent(backup)}`, z.object({ removedObjects: z.number() })),
    },
  };
}
