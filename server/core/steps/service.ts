import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import { pullResultSchema } from '@/lib/contracts/images';
import { OCI_KEEPALIVE } from '@/server/drivers/oci/bundle';
import { buildBodySchema, type BuildBody, type BuildResult, type ChainStep, type StepNode } from '@/lib/contracts/steps';
import { STEP_CATALOG } from '@/lib/steps/catalog';
import { ChainError, splitChain, splitSteps, tokenize } from '@/lib/steps/chain';
import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { getStepNode, insertStepNode, listStepNodes, touchStepNode } from '@/db/repo/steps';
import type { Principal } from '../auth';
import { BadRequestError, ConflictError, NotFoundError } from '../errors';
import type { ConsoleRegistry } from '../console/registry';
import type { EventBus } from '../events';
import type { ImageService } from '../images';
import type { JobContext, JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { SnapshotService } from '../snapshots';
import { cleanupCache, invalidateNode, type CacheDeps } from './step-cache';
import { storedArgs, stepKey } from './step-keys';
import { stepMachine } from './step-machine';
import { checkpointFor, runTransient } from './transient';
import { lookup, type Lookup, type StepRegistry } from './user-steps';

/** A parsed chain with its base, and the identity of the image build it starts from. */
type Chain = { steps: ChainStep[]; base: ReturnType<typeof baseOf>; imageKey: string };

type Network = 'nat' | 'host' | 'private';
const networkArg = (v: unknown, fallback: Network): Network => (v === 'host' || v === 'private' || v === 'nat' ? v : fallback);

const baseOf = (st: ChainStep): { image: string; driver: 'qemu' | 'nspawn'; network: Network; entrypoint?: string[] } =>
  st.step === 'os.busybox'
    ? { image: 'busybox', driver: 'qemu', network: 'private' }
    : st.step === 'os.oci'
      ? // The image's name is known once its ref is resolved (pulled): see build().
        { image: '', driver: 'nspawn', network: networkArg(st.args.network, 'nat'), entrypoint: OCI_KEEPALIVE }
      : {
          // os.debian's schema leaves `image` out for debian-12 (the keys of chains cached before debian-13 stay).
          image: (st.args.image as string | undefined) ?? 'debian-12',
          driver: ((st.args.driver as string | undefined) ?? 'nspawn') as 'qemu' | 'nspawn', // checked by os.debian's schema
          network: networkArg(st.args.network, 'nat'),
        };

/**
 * Cached step trees (the fingertip idea): a chain runs from the deepest cached result (a fork of
 * its snapshot: a live one for VMs) and only the rest of the steps run, each result checkpointed
 * as a node of the tree. Identical chains started together build their shared prefix once.
 */
export class StepService {
  /** Keys being built now, so a second chain waits for them instead of building them again. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Nodes a build is forking now: the clean-up leaves them alone. */
  private readonly pinned = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly jobs: JobRunner,
    private readonly machines: MachineService,
    private readonly snapshots: SnapshotService,
    private readonly images: ImageService,
    private readonly bus: EventBus,
    private readonly consoles: ConsoleRegistry,
    /** The cache's limits (Settings: step cache budget and max age). */
    private readonly limits: () => { budgetMib: number; maxAgeDays: number },
    /** User steps from the steps directory. */
    private readonly registry: StepRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  private get deps() {
    return { machines: this.machines, jobs: this.jobs, consoles: this.consoles };
  }

  private get cacheDeps(): CacheDeps {
    return { store: this.store, snapshots: this.snapshots, bus: this.bus, pinned: this.pinned, now: this.now };
  }

  private get transientDeps() {
    return { ...this.deps, snapshots: this.snapshots };
  }

  /** Built-in and user steps (a user step module that does not load is listed with its error). */
  async catalog() {
    const { steps: user, problems } = await this.registry.scan();
    const broken = problems.map((x) => ({
      name: path.basename(x.file),
      version: '',
      base: false,
      transient: false,
      usage: '',
      description: `does not load: ${x.error}`,
    }));
    return [
      ...STEP_CATALOG.map((s) => ({ name: s.name, version: s.version, base: !!s.base, transient: !!s.transient, usage: s.usage, description: s.description })),
      ...[...user.values()].map((u) => u.info),
      ...broken,
    ];
  }

  private async lookup(): Promise<Lookup> {
    return lookup(await this.registry.scan());
  }

  async tree(): Promise<(StepNode & { sizeBytes: number })[]> {
    const sizes = new Map((await this.snapshots.list()).map((s) => [s.id, s.sizeBytes]));
    return (await listStepNodes(this.store)).map((n) => ({ ...n, sizeBytes: (n.snapshotId && sizes.get(n.snapshotId)) || 0 }));
  }

  /** A chain checked before any job starts, step by step (a user step's in its module's process): a bad step or argument is a 400 naming it. */
  async parse(body: BuildBody, lk: Lookup): Promise<ChainStep[]> {
    const b = buildBodySchema.parse(body);
    try {
      const steps: ChainStep[] = [];
      // Steps for an existing machine have no base: each is checked as a step after one.
      const given = b.steps ?? (b.machine ? splitSteps(tokenize(b.chain!)) : splitChain(tokenize(b.chain!)));
      for (const [i, s] of given.entries()) steps.push(await lk.check(s, b.machine ? i + 1 : i));
      return steps;
    } catch (err) {
      if (err instanceof ChainError) throw new BadRequestError(err.message, [{ path: err.field ? `steps.${err.field}` : 'chain', message: err.message }]);
      throw err;
    }
  }

  async build(p: Principal, body: BuildBody): Promise<Job> {
    const lk = await this.lookup();
    const steps = await this.parse(body, lk);
    if (body.machine) return this.applyTo(p, body.machine, steps, lk);
    const base = baseOf(steps[0]);
    // The base's identity is the base's parent in the keys. An OCI ref is resolved against its registry now (pulled on first
    // use; an unknown one is a 404 before any job): a tag pushed again is another manifest digest, so another key.
    let resolve: (ctx: JobContext) => Promise<{ image: string; imageKey: string }>;
    if (steps[0].step === 'os.oci') {
      const pull = await this.images.oci.pull(p, { ref: steps[0].args.ref as string, policy: 'always' });
      resolve = async (ctx) => {
        const done = pull.state === 'succeeded' ? pull : await this.jobs.waitFor(pull, ctx);
        const r = pullResultSchema.parse(done.result);
        ctx.log(`${r.ref} is ${r.digest} (image ${r.image}${r.reused ? ', already here' : ', pulled'})`);
        return { image: r.image, imageKey: `oci:${r.digest}` };
      };
    } else {
      // The image build: read once, here, so a missing image is a 404 before any job.
      const img = (await this.images.list()).find((i) => i.name === base.image && i.state === 'ready');
      if (!img) throw new NotFoundError(`Image "${base.image}" (build it on the Images page)`);
      resolve = () => Promise.resolve({ image: img.name, imageKey: `image:${img.id}:${img.updatedAt}` });
    }
    const name = body.name ?? `build-${randomBytes(3).toString('hex')}`;
    if (
      await this.machines.get(p, name).then(
        () => true,
        () => false,
      )
    )
      throw new ConflictError(`A machine named "${name}" exists already.`);
    // The build ends in a machine of this person's: no room for one is a 409 now, not a failed job later.
    await this.machines.limits.ensureRoom(await this.machines.limits.chargeTo(p), { machines: 1 });
    const title = `Build ${steps.map((s) => s.step).join(' + ')} → ${name}`;
    const { job } = await this.jobs.start({ kind: 'steps.build', title, ownerId: p.user.id }, async (ctx) => {
      const { image, imageKey } = await resolve(ctx);
      return this.run(p, { steps, base: { ...base, image }, imageKey }, name, !!body.transient, lk, ctx);
    });
    return job;
  }

  private async run(p: Principal, chain: Chain, name: string, transientLast: boolean, lk: Lookup, ctx: JobContext): Promise<BuildResult> {
    const { steps, base } = chain;
    const keys: string[] = [];
    steps.forEach((s, i) => keys.push(stepKey(i === 0 ? chain.imageKey : keys[i - 1], s, lk.info(s.step)?.version ?? '?')));
    // A transient step is never cached, and nothing after it is (the keys after it name it as their parent).
    const transient = (i: number) => i > 0 && (!!lk.info(steps[i].step)?.transient || (transientLast && i === steps.length - 1));
    const firstTransient = steps.findIndex((_, i) => transient(i));
    const cacheable = (i: number) => firstTransient < 0 || i < firstTransient;

    let hit = -1;
    let m: ReturnType<typeof stepMachine> | null = null;
    const mine: (() => void)[] = [];
    try {
      let hitNode: StepNode | null = null;
      for (;;) {
        ({ index: hit, node: hitNode } = await this.deepestHit(keys, cacheable));
        const waits = keys
          .slice(hit + 1)
          .map((k) => this.inflight.get(k))
          .filter((w): w is Promise<void> => !!w);
        if (!waits.length) break;
        ctx.progress(2, 'Waiting for the same steps another build is running');
        await Promise.allSettled(waits);
      }
      for (const k of keys.slice(hit + 1).filter((_, j) => cacheable(hit + 1 + j))) {
        this.inflight.set(k, new Promise<void>((resolve) => mine.push(() => (this.inflight.delete(k), resolve()))));
      }
      const t0 = performance.now();
      let machineId: string;
      // The snapshot the chain's machine is still in the state of (the hit's, or the last step cached): a transient step forks it.
      let at: string | null = null;
      if (hitNode) {
        const node = hitNode;
        ctx.progress(5, `Cache hit: ${hit + 1} of ${steps.length} steps; starting from ${node.step}`);
        const key = keys[hit];
        this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1);
        try {
          // A result another node holds (a cluster) is copied here by the fork, as a replica (cluster/replicas.ts): the build runs where it was asked.
          const fork = await this.jobs.waitFor(await this.snapshots.fork(p, node.snapshotId!, { names: [name] }), ctx);
          machineId = ((fork.result as { machines?: string[] }).machines ?? [])[0];
          ctx.log(`forked the cached result (job ${fork.id})`);
        } finally {
          const n = (this.pinned.get(key) ?? 1) - 1;
          if (n > 0) this.pinned.set(key, n);
          else this.pinned.delete(key);
        }
        at = node.snapshotId;
        for (const k of keys.slice(0, hit + 1)) await touchStepNode(this.store, k, this.now());
        this.bus.publish('steps:changed', { key: keys[hit] });
        ctx.log(`restored ${node.step} (key ${keys[hit].slice(0, 12)}) in ${Math.round(performance.now() - t0)} ms; it took ${node.durationMs} ms to build`);
      } else {
        ctx.progress(5, `Starting ${base.image} (${base.driver})`);
        const created = await this.jobs.waitFor(
          await this.machines.create(p, {
            name,
            image: base.image,
            driver: base.driver,
            memoryMib: steps[0].args.memoryMib as number,
            cpus: 1,
            diskGib: 2,
            ports: [],
            tags: ['build'],
            start: true,
            network: this.machines.describe(base.driver).networks.some((n) => n.mode === base.network) ? base.network : 'private',
            ...(base.entrypoint ? { entrypoint: base.entrypoint } : {}),
          }),
          ctx,
        );
        machineId = (created.result as { machine: string }).machine;
        at = await this.record(p, machineId, keys, chain, 0, performance.now() - t0, cacheable(0), lk, ctx);
      }
      m = stepMachine(this.deps, p, { id: machineId, name, driver: base.driver }, lk, ctx);
      for (let i = Math.max(hit + 1, 1); i < steps.length; i++) {
        const s = steps[i];
        ctx.progress(10 + Math.round((80 * i) / steps.length), `Step ${i + 1}/${steps.length}: ${s.step}`);
        const t1 = performance.now();
        if (transient(i)) {
          // Never on the chain's machine: on a throwaway fork of its state, removed after (fingertip's `with m.transient()`).
          at ??= await checkpointFor(this.transientDeps, p, machineId, `${name} before ${s.step}`, ctx);
          await runTransient(this.transientDeps, p, { snapshotId: at, chainMachine: name, driver: base.driver, index: i }, s, lk, ctx);
          continue;
        }
        try {
          await lk.runner(s.step)!(m, s.args);
        } catch (err) {
          throw new Error(
            `Step ${i + 1} (${s.step}) failed: ${(err as Error).message} — machine ${name} is left as the step left it (hangar rm ${name} removes it).`,
            { cause: err },
          );
        }
        at = await this.record(p, machineId, keys, chain, i, performance.now() - t1, cacheable(i), lk, ctx);
      }
      // The cache stays within its limits as it grows (what this build uses is in use: kept); a build that cached nothing new leaves it as it was.
      const grew = mine.length > 0;
      const clean = grew ? await this.cleanup().catch((err: Error) => (ctx.log(`warning: step cache clean-up failed: ${err.message}`), null)) : null;
      if (clean?.removed) ctx.log(`step cache over its limits: removed ${clean.removed} least recently used step${clean.removed === 1 ? '' : 's'}`);
      return { machine: name, hits: hit + 1, ran: steps.length - hit - 1, keys };
    } finally {
      m?.close();
      for (const done of mine) done();
    }
  }

  /**
   * Steps applied to an existing machine (an adopted server, say): run in order over its exec, as a
   * build runs them, and never cached: the state they start from is no cached result, and a machine
   * whose driver cannot checkpoint has no snapshot to keep their result in. The job says which.
   */
  private async applyTo(p: Principal, ref: string, steps: ChainStep[], lk: Lookup): Promise<Job> {
    const m = await this.machines.get(p, ref);
    if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: steps need a running machine.`);
    const transient = steps.find((s) => lk.info(s.step)?.transient);
    if (transient)
      throw new BadRequestError(`${transient.step} is a transient step: it runs on a throwaway fork of a chain's cached state, not on an existing machine.`, [
        { path: 'steps', message: 'no transient steps on a machine' },
      ]);
    const uncached = uncachedWhy(m);
    const title = `Apply ${steps.map((s) => s.step).join(' + ')} → ${m.name}`;
    const { job } = await this.jobs.start({ kind: 'steps.build', title, ownerId: p.user.id, machineId: m.id }, async (ctx): Promise<BuildResult> => {
      ctx.log(`not cached: ${uncached}`);
      const sm = stepMachine(this.deps, p, { id: m.id, name: m.name, driver: m.driver }, lk, ctx);
      try {
        for (const [i, s] of steps.entries()) {
          ctx.progress(5 + Math.round((90 * i) / steps.length), `Step ${i + 1}/${steps.length}: ${s.step} (not cached)`);
          const t0 = performance.now();
          try {
            await lk.runner(s.step)!(sm, s.args);
          } catch (err) {
            throw new Error(`Step ${i + 1} (${s.step}) failed on ${m.name}: ${(err as Error).message} — the machine is left as the step left it.`, {
              cause: err,
            });
          }
          ctx.log(`step ${s.step}: ran in ${Math.round(performance.now() - t0)} ms, not cached`);
        }
      } finally {
        sm.close();
      }
      return { machine: m.name, hits: 0, ran: steps.length, keys: [], uncached };
    });
    return job;
  }

  /** The deepest step whose result is cached with a complete snapshot, and its node. */
  private async deepestHit(keys: string[], cacheable: (i: number) => boolean): Promise<{ index: number; node: StepNode | null }> {
    for (let i = keys.length - 1; i >= 0; i--) {
      if (!cacheable(i)) continue;
      const node = await getStepNode(this.store, keys[i]);
      if (
        node?.snapshotId &&
        (await this.snapshots.get(node.snapshotId).then(
          (s) => s.state === 'complete',
          () => false,
        ))
      )
        return { index: i, node };
    }
    return { index: -1, node: null };
  }

  /** A step's result as a node of the tree: the machine checkpointed (live where it can be). */
  private async record(
    p: Principal,
    machineId: string,
    keys: string[],
    { steps, base }: Chain,
    i: number,
    ms: number,
    cacheable: boolean,
    lk: Lookup,
    ctx: JobContext,
  ): Promise<string | null> {
    if (!cacheable) return (ctx.log(`step ${steps[i].step}: not cached (after a transient step)`), null);
    const cp = await this.jobs.waitFor(await this.snapshots.checkpoint(p, machineId, `step ${steps[i].step} ${keys[i].slice(0, 8)}`), ctx);
    const snapshotId = (cp.result as { snapshot: string }).snapshot;
    await insertStepNode(this.store, {
      key: keys[i],
      parentKey: i === 0 ? null : keys[i - 1],
      step: steps[i].step,
      version: lk.info(steps[i].step)?.version ?? '?',
      args: storedArgs(steps[i].args) as Record<string, unknown>,
      image: base.image,
      driver: base.driver,
      snapshotId,
      durationMs: Math.round(ms),
      lastUsedAt: this.now(),
      createdAt: this.now(),
    });
    this.bus.publish('steps:changed', { key: keys[i] });
    ctx.log(`cached ${steps[i].step} as ${keys[i].slice(0, 12)} (snapshot ${snapshotId}, ${Math.round(ms)} ms to build)`);
    return snapshotId;
  }

  /** The cache within its limits (step-cache.ts). */
  cleanup(limits = this.limits()): Promise<{ removed: number; freedBytes: number }> {
    return cleanupCache(this.cacheDeps, limits);
  }

  /** A node and everything built on it leave the cache (their snapshots go too, unless a machine runs on them). */
  invalidate(key: string): Promise<{ removed: number }> {
    return invalidateNode(this.cacheDeps, key);
  }
}

/** Why steps applied to this machine are not cached, from what its driver says it can do. */
export function uncachedWhy(m: Pick<Machine, 'name' | 'capabilities'>): string {
  const can = m.capabilities.checkpoint;
  if (can.running === 'none') return `a step's result on ${m.name} cannot be snapshotted (${can.reason ?? 'its driver cannot checkpoint it'})`;
  return `steps applied to ${m.name} start from its own state, which no cached result holds`;
}
