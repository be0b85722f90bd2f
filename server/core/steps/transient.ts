import { randomBytes } from 'node:crypto';
import type { ChainStep } from '@/lib/contracts/steps';
import type { Principal } from '../auth';
import type { JobContext } from '../jobs';
import type { SnapshotService } from '../snapshots';
import type { StepMachine } from './builtins';
import { stepMachine, type StepMachineDeps } from './step-machine';
import type { lookup } from './user-steps';

export interface TransientDeps extends StepMachineDeps {
  snapshots: SnapshotService;
}

/** A waiter that is never cancelled: clean-up still waits when the build it belongs to was cancelled. */
const steadfast = (ctx: JobContext) => ({ jobId: ctx.jobId, signal: new AbortController().signal });

/** Checkpoint the chain's machine (a sub-job): the state a transient step forks when no cached step holds it. */
export async function checkpointFor(deps: TransientDeps, p: Principal, machineId: string, label: string, ctx: JobContext): Promise<string> {
  const cp = await deps.jobs.waitFor(await deps.snapshots.checkpoint(p, machineId, label), ctx);
  return (cp.result as { snapshot: string }).snapshot;
}

/**
 * A transient step (a check: probe, wait-port, a user step marked transient, or the last step of a
 * `--transient` build) runs on a throwaway fork of the chain's current state and the fork is
 * destroyed after, pass or fail: the chain's machine is never touched by it, and no machine is
 * left behind. A failure fails the build with the step's reason.
 */
export async function runTransient(
  deps: TransientDeps,
  p: Principal,
  where: { snapshotId: string; chainMachine: string; driver: StepMachine['driver']; index: number },
  step: ChainStep,
  lk: ReturnType<typeof lookup>,
  ctx: JobContext,
): Promise<void> {
  const name = `${where.chainMachine.slice(0, 50).replace(/-+$/, '')}-t${randomBytes(3).toString('hex')}`;
  const t0 = performance.now();
  let m: ReturnType<typeof stepMachine> | null = null;
  try {
    const fork = await deps.jobs.waitFor(await deps.snapshots.fork(p, where.snapshotId, { names: [name] }), ctx);
    const id = ((fork.result as { machines?: string[] }).machines ?? [])[0];
    m = stepMachine(deps, p, { id, name, driver: where.driver }, lk, ctx);
    await lk.runner(step.step)!(m, step.args);
    ctx.log(`step ${step.step}: transient, ran on a throwaway fork ${name} in ${Math.round(performance.now() - t0)} ms (not cached)`);
  } catch (err) {
    throw new Error(
      `Step ${where.index + 1} (${step.step}) failed: ${(err as Error).message} — it ran on a throwaway fork (removed); ` +
        `${where.chainMachine} is as the steps before it left it.`,
      { cause: err },
    );
  } finally {
    m?.close();
    // Whatever happened (a fork that failed half way too): the throwaway machine goes.
    const left = await deps.machines.get(p, name).catch(() => null);
    if (left) {
      await deps.jobs
        .waitFor(await deps.machines.destroy(p, left.id), steadfast(ctx))
        .catch((err: Error) => ctx.log(`warning: the throwaway fork ${name} was not removed: ${err.message} (hangar rm ${name})`));
    }
  }
}
