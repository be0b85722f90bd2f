import { and, asc, count, desc, eq, gt, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { Job, JobLogLine, JobState } from '@/lib/contracts/jobs';
import type { Store } from '../client';

type JobRow = Store['t']['jobs']['$inferSelect'];
export type JobPatch = Partial<Pick<JobRow, 'state' | 'progress' | 'message' | 'error' | 'startedAt' | 'finishedAt'>> & { result?: unknown };

export function toJob(r: JobRow): Job {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    state: r.state,
    progress: r.progress,
    message: r.message,
    error: r.error,
    result: r.resultJson == null ? null : JSON.parse(r.resultJson),
    ownerId: r.ownerId,
    machineId: r.machineId,
    parentId: r.parentId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}

/** `nodeId`: the cluster node that runs it (null on one node: SQLite, or the founder before it knew its id). */
export async function insertJob(s: Store, j: Job, nodeId: string | null = null): Promise<void> {
  await s.db.insert(s.t.jobs).values({
    id: j.id,
    nodeId,
    kind: j.kind,
    title: j.title,
    state: j.state,
    progress: j.progress,
    message: j.message,
    error: j.error,
    resultJson: j.result == null ? null : JSON.stringify(j.result),
    ownerId: j.ownerId,
    machineId: j.machineId,
    parentId: j.parentId,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  });
}

export async function updateJob(s: Store, id: string, patch: JobPatch): Promise<Job | undefined> {
  const { result, ...rest } = patch;
  const values = result === undefined ? rest : { ...rest, resultJson: JSON.stringify(result) };
  const [row] = await s.db.update(s.t.jobs).set(values).where(eq(s.t.jobs.id, id)).returning();
  return row ? toJob(row) : undefined;
}

export async function getJob(s: Store, id: string): Promise<Job | undefined> {
  const [row] = await s.db.select().from(s.t.jobs).where(eq(s.t.jobs.id, id)).limit(1);
  return row ? toJob(row) : undefined;
}

export interface JobListQuery {
  ownerId?: string;
  state?: JobState;
  /** Only the jobs this job started. */
  parentId?: string;
  limit: number;
  /** Older than this job (created at, id): the next page. */
  before?: { createdAt: number; id: string };
}

/** Newest first (then by id, so a page boundary between jobs made in the same millisecond is exact). */
export async function listJobs(s: Store, q: JobListQuery): Promise<Job[]> {
  const j = s.t.jobs;
  const conds: SQL[] = [];
  if (q.parentId) conds.push(eq(j.parentId, q.parentId));
  if (q.ownerId) conds.push(eq(j.ownerId, q.ownerId));
  if (q.state) conds.push(eq(j.state, q.state));
  if (q.before) conds.push(or(lt(j.createdAt, q.before.createdAt), and(eq(j.createdAt, q.before.createdAt), lt(j.id, q.before.id)))!);
  const rows = await s.db
    .select()
    .from(j)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(j.createdAt), desc(j.id))
    .limit(q.limit);
  return rows.map(toJob);
}

export async function appendJobLogs(s: Store, jobId: string, lines: JobLogLine[]): Promise<void> {
  if (lines.length === 0) return;
  await s.db.insert(s.t.jobLogs).values(lines.map((l) => ({ jobId, seq: l.seq, ts: l.ts, line: l.line })));
}

export async function getJobLogs(s: Store, jobId: string, after: number): Promise<JobLogLine[]> {
  const rows = await s.db
    .select({ seq: s.t.jobLogs.seq, ts: s.t.jobLogs.ts, line: s.t.jobLogs.line })
    .from(s.t.jobLogs)
    .where(and(eq(s.t.jobLogs.jobId, jobId), gt(s.t.jobLogs.seq, after)))
    .orderBy(asc(s.t.jobLogs.seq))
    .limit(5000);
  return rows;
}

/**
 * Jobs that were queued or running when the server stopped can no longer finish. In a cluster
 * only this node's own (`node`: its id, and the founder also takes the rows older than clusters);
 * without `node`, every job (one node).
 */
export async function failUnfinishedJobs(s: Store, reason: string, now: number, node?: { id: string; founder: boolean }): Promise<number> {
  const j = s.t.jobs;
  const mine = node ? (node.founder ? or(eq(j.nodeId, node.id), isNull(j.nodeId)) : eq(j.nodeId, node.id)) : undefined;
  const rows = await s.db
    .update(s.t.jobs)
    .set({ state: 'failed', error: reason, finishedAt: now })
    .where(and(inArray(s.t.jobs.state, ['queued', 'running']), mine))
    .returning({ id: s.t.jobs.id });
  return rows.length;
}

/** How many jobs there are of each kind in each state (/metrics). */
export async function countJobsByKindAndState(s: Store): Promise<{ kind: string; state: JobState; n: number }[]> {
  const j = s.t.jobs;
  const rows = await s.db.select({ kind: j.kind, state: j.state, n: count() }).from(j).groupBy(j.kind, j.state);
  return rows.map((r) => ({ kind: r.kind, state: r.state as JobState, n: Number(r.n) }));
}

/** The node that runs a job (null: unknown job, or one older than the cluster). */
export async function jobNodeId(s: Store, id: string): Promise<string | null> {
  const [row] = await s.db.select({ nodeId: s.t.jobs.nodeId }).from(s.t.jobs).where(eq(s.t.jobs.id, id)).limit(1);
  return row?.nodeId ?? null;
}
