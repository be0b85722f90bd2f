import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi';

export type { components, paths };
/** The typed client of every operation (openapi-fetch over the generated `paths`). */
export type HangarClient = Client<paths>;

type Json<P extends keyof paths, M extends 'get' | 'post', S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;
export type Job = Json<'/api/jobs/{id}', 'get', 200>;
export type ExecResult = Json<'/api/machines/{ref}/exec', 'post', 200>;
export type MachineInfo = Json<'/api/machines/{ref}', 'get', 200>;
type ChainStep = NonNullable<NonNullable<paths['/api/steps/build']['post']['requestBody']>['content']['application/json']['steps']>[number];

export interface HangarOptions {
  /** The server, e.g. http://127.0.0.1:3000 (the API is under /api). */
  baseUrl: string;
  /** An API token (Settings > API tokens, or `hangar login`). */
  token: string;
  fetch?: typeof fetch;
}

/** An API error with the server's envelope ({ error: { code, message, issues } }). */
export class HangarError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HangarError';
  }
}

function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || r.data === undefined) {
    const env = r.error as { error?: { code?: string; message?: string } } | undefined;
    throw new HangarError(r.response.status, env?.error?.code ?? 'internal', env?.error?.message ?? `HTTP ${r.response.status}`);
  }
  return r.data;
}

/** Short names for the base steps, as on the command line (`hangar build debian-12 + ...`). */
const BASES: Record<string, string> = { 'debian-12': 'os.debian', debian: 'os.debian', busybox: 'os.busybox' };

/** A machine of the server: run commands in it, destroy it. */
export class Machine {
  constructor(
    private readonly hangar: Hangar,
    readonly name: string,
  ) {}

  /** Run argv (no shell) in the running machine; `check` (default): a non-zero exit throws with its stderr. */
  async exec(argv: string[], opts: { timeoutS?: number; check?: boolean } = {}): Promise<ExecResult> {
    const r = unwrap(
      await this.hangar.api.POST('/api/machines/{ref}/exec', { params: { path: { ref: this.name } }, body: { argv, timeoutS: opts.timeoutS ?? 600 } }),
    );
    if (opts.check !== false && r.code !== 0) throw new HangarError(200, 'exec_failed', `${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r;
  }

  info(): Promise<MachineInfo> {
    return this.hangar.api.GET('/api/machines/{ref}', { params: { path: { ref: this.name } } }).then(unwrap);
  }

  /** Destroy it and wait until it is gone. */
  async destroy(): Promise<void> {
    await this.hangar.wait(unwrap(await this.hangar.api.DELETE('/api/machines/{ref}', { params: { path: { ref: this.name } } })));
  }
}

/**
 * A chain of steps on a base, built when awaited: each step's result is cached on the server
 * (a snapshot), so building the same chain again forks the cached machine instead of running it.
 */
export class Chain implements PromiseLike<Machine> {
  constructor(
    private readonly hangar: Hangar,
    readonly steps: ChainStep[],
    private readonly opts: { name?: string } = {},
  ) {}

  /** One more step: a built-in (`apt`, `exec`, `file`, `sh`, `service`, `ansible`...) or a user step, with its arguments. */
  apply(step: string, args: Record<string, unknown> = {}): Chain {
    return new Chain(this.hangar, [...this.steps, { step, args }], this.opts);
  }

  /** The machine's name (otherwise the server makes one). */
  named(name: string): Chain {
    return new Chain(this.hangar, this.steps, { ...this.opts, name });
  }

  /** Build it now: the job runs on the server; resolves with the machine in the chain's last state. */
  async build(): Promise<Machine> {
    const job = unwrap(await this.hangar.api.POST('/api/steps/build', { body: { steps: this.steps, transient: false, ...this.opts } }));
    const done = await this.hangar.wait(job);
    return new Machine(this.hangar, (done.result as { machine: string }).machine);
  }

  then<A = Machine, B = never>(ok?: ((m: Machine) => A | PromiseLike<A>) | null, bad?: ((e: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return this.build().then(ok, bad);
  }
}

export class Hangar {
  /** Every operation, typed from the OpenAPI document: `hangar.api.GET('/api/machines')`. */
  readonly api: HangarClient;

  constructor(opts: HangarOptions) {
    this.api = createClient<paths>({
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      headers: { authorization: `Bearer ${opts.token}` },
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  /** A chain on a base: `debian-12`, `busybox`, or a base step's name (`os.debian`), with the base's arguments. */
  build(base: string, args: Record<string, unknown> = {}): Chain {
    return new Chain(this, [{ step: BASES[base] ?? base, args }]);
  }

  machine(name: string): Machine {
    return new Machine(this, name);
  }

  /** Wait for a job to end (polled); throws with its error when it did not succeed. */
  async wait(job: { id: string }, timeoutMs = 30 * 60_000): Promise<Job> {
    const end = Date.now() + timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      const j = unwrap(await this.api.GET('/api/jobs/{id}', { params: { path: { id: job.id } } }));
      if (j.state === 'succeeded') return j;
      if (j.state === 'failed' || j.state === 'cancelled') throw new HangarError(409, `job_${j.state}`, `${j.title}: ${j.error ?? j.state}`);
      if (Date.now() > end) throw new HangarError(0, 'timeout', `${j.title}: not done after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** `const hangar = createHangar({ baseUrl, token })`. */
export const createHangar = (opts: HangarOptions): Hangar => new Hangar(opts);
