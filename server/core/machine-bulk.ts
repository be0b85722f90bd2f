import type { BulkBody, BulkResult } from '@/lib/contracts/machines';
import type { Job } from '@/lib/contracts/jobs';
import type { AuditLog } from './audit';
import type { Principal } from './auth';
import { HangarError } from './errors';
import type { GrantService } from './grants';
import type { MachineService } from './machines';
import type { SnapshotService } from './snapshots';

/**
 * One action on several machines (the list's bulk bar, `hangar stop A B C`): each machine is
 * authorized as its own route would (a grant lets a teammate act on the machines given to
 * them; destroying needs the owner grant), started as its own job and audited; one that is
 * refused or in the wrong state is reported and the others go on.
 */
export async function bulkAct(
  deps: { machines: MachineService; snapshots: SnapshotService; grants: GrantService; audit: AuditLog },
  p: Principal,
  body: BulkBody,
  ip: string | null,
): Promise<BulkResult> {
  const results: BulkResult['results'] = [];
  for (const ref of body.machines) {
    try {
      const m = await deps.machines.get(p, ref);
      // As the machine's own routes decide: destroying needs the owner grant, the rest an operator one.
      await deps.grants.authorize(p, m.id, 'operator', body.action === 'destroy' ? 'owner' : 'operator', ref);
      const job = await start(deps, p, m.id, body.action);
      const verb = body.action === 'force-stop' ? 'stop' : body.action;
      await deps.audit.record(p, {
        action: `machine.${verb}`,
        target: { kind: 'machine', id: m.id },
        ip,
        detail: { bulk: true, job: job.id, ...(body.action === 'force-stop' ? { force: true } : {}) },
      });
      results.push({ machine: ref, job, error: null });
    } catch (err) {
      results.push({
        machine: ref,
        job: null,
        error:
          err instanceof HangarError
            ? { code: err.code, message: err.message }
            : { code: 'internal', message: err instanceof Error ? err.message : String(err) },
      });
    }
  }
  return { results };
}

function start(deps: { machines: MachineService; snapshots: SnapshotService }, p: Principal, id: string, action: BulkBody['action']): Promise<Job> {
  switch (action) {
    case 'destroy':
      return deps.machines.destroy(p, id);
    case 'checkpoint':
      return deps.snapshots.checkpoint(p, id);
    case 'force-stop':
      return deps.machines.act(p, id, 'stop', { force: true, timeoutS: 30 });
    default:
      return deps.machines.act(p, id, action);
  }
}
