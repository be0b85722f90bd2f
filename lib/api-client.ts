import { machineDiskSchema, type AddDiskBody, type PatchDiskBody } from './contracts/disks';
import { fileStatSchema, filesPushedSchema } from './contracts/files';
import { displayInfoSchema } from './contracts/display';
import { z } from 'zod';
import {
  apiTokenSchema,
  cliLoginCodeSchema,
  createdTokenSchema,
  meSchema,
  sessionInfoSchema,
  userSchema,
  userWithPasswordSchema,
  type ChangePasswordBody,
  type CreateTokenBody,
  type CreateUserBody,
  type LoginBody,
  type UpdateUserBody,
} from './contracts/auth';
import { auditPageSchema, type AuditQuery } from './contracts/audit';
import { grantSchema, machineAccessSchema, type PutGrantBody } from './contracts/grants';
import { createdForkLinkSchema, forkLinkForkSchema, forkLinkSchema, openedForkSchema, type CreateForkLinkBody, type ForkAction } from './contracts/fork-links';
import {
  createdShareSchema,
  recordingShareInfoSchema,
  shareInfoSchema,
  shareSchema,
  type CreateRecordingShareBody,
  type CreateShareBody,
} from './contracts/shares';
import { errorEnvelopeSchema, listOf, okSchema, type ErrorCode, type PageQuery } from './contracts/common';
import { healthSchema } from './contracts/health';
import { hostInfoSchema } from './contracts/host';
import { cdromStateSchema, isoSchema, type AddIsoUrlBody, type CdromBody } from './contracts/isos';
import { joinTokenSchema, nodeSchema, type CreateJoinTokenBody } from './contracts/nodes';
import type { ImportDiskBody } from './contracts/disk-images';
import { imageSchema, registrySchema, type BuildImageBody, type ImportRootfsUrlBody, type PutRegistryBody } from './contracts/images';
import { uploadedPackageSchema, type ProbeBody } from './contracts/probes';
import { stepInfoSchema, stepTreeNodeSchema, type BuildBody } from './contracts/steps';
import { diffResultSchema } from './contracts/diff';
import { gcResultSchema, snapshotSchema, type ForkBody, type RestoreBody } from './contracts/snapshots';
import { backupSchema, backupTargetSchema, type CreateBackupTargetBody } from './contracts/backups';
import { publishedImageSchema, signingKeySchema, type PublishImageBody, type PullPublishedBody } from './contracts/image-publish';
import { jobLogLineSchema, jobSchema, type DemoJobBody, type JobState } from './contracts/jobs';
import { recordingMarkersSchema, recordingSchema, type PatchMachineBody } from './contracts/recordings';
import { prefsSchema, type Prefs } from './contracts/prefs';
import { hostUsageSchema, machineStatsHistorySchema, machineStatsListSchema } from './contracts/stats';
import {
  bulkResultSchema,
  driverInfoSchema,
  execResultSchema,
  logsSchema,
  machineSchema,
  runOnceEventSchema,
  unitFileSchema,
  type BulkBody,
  type CreateMachineBody,
  type MachineAction,
  type RunOnceBody,
  type RunOnceEvent,
  type StopMachineBody,
} from './contracts/machines';
import { settingsSchema, type SettingsPatch } from './contracts/settings';
import { userLimitsSchema, type PutLimitsBody } from './contracts/limits';
import { signInOptionsSchema, ssoProviderSchema, type CreateSsoProviderBody, type UpdateSsoProviderBody } from './contracts/sso';
import { createdScrapeTokenSchema, scrapeTokenInfoSchema } from './contracts/metrics';
import { scheduleSchema, type CreateScheduleBody } from './contracts/schedules';
import { undoRingSchema, type UndoSettingsBody } from './contracts/undo';
import { sshHostKeysSchema, sshHostSchema, sshKeySchema, sshTunnelInfoSchema, type AddSshKeyBody } from './contracts/ssh-keys';
import { createdWebhookSchema, webhookDeliverySchema, webhookSchema, type CreateWebhookBody, type UpdateWebhookBody } from './contracts/webhooks';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** '' in the browser (same origin, cookie auth); the server URL in the CLI. */
  baseUrl: string;
  /** API token (CLI). Browsers use the httpOnly session cookie instead. */
  token?: string;
  /** A share link's token (the share page): sent as X-Hangar-Share. */
  share?: string;
  fetch?: typeof fetch;
}

/**
 * One typed client for the browser and the CLI, built from the same zod contracts the
 * server validates with; responses are parsed too, so a drift shows up as an error here.
 */
export interface DiffOptions {
  limit?: number;
  path?: string;
}

export function createApiClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? fetch;

  /** One request; a non-2xx answer throws its error envelope as an ApiError. */
  async function send(method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.contentType) headers['content-type'] = init.contentType;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.share) headers['x-hangar-share'] = opts.share;
    let res: Response;
    try {
      // duplex: a streamed upload (a snapshot archive) needs it in Node's fetch.
      res = await doFetch(`${opts.baseUrl}/api${path}`, {
        method,
        headers,
        body: init.body,
        credentials: 'same-origin',
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      // fetch's own message is just "fetch failed": the reason (ECONNREFUSED, a reset) is in its cause.
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
      throw new ApiError(0, 'network', `Cannot reach Hangar at ${opts.baseUrl || 'this origin'}: ${err instanceof Error ? err.message : String(err)}${cause}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let json: unknown = undefined;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: reported below
      }
      const env = errorEnvelopeSchema.safeParse(json);
      if (env.success) throw new ApiError(res.status, env.data.error.code, env.data.error.message, env.data.error.issues);
      throw new ApiError(res.status, 'internal', `HTTP ${res.status} from ${path}`);
    }
    return res;
  }

  async function call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const res = await send(method, path, body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' });
    const text = await res.text();
    return schema.parse(text ? JSON.parse(text) : undefined);
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
    const str = s.toString();
    return str ? `?${str}` : '';
  };

  return {
    health: () => call('GET', '/health', healthSchema),
    auth: {
      login: (b: LoginBody) => call('POST', '/auth/login', meSchema, b),
      logout: () => call('POST', '/auth/logout', okSchema),
      prefs: () => call('GET', '/auth/prefs', prefsSchema),
      setPrefs: (b: Prefs) => call('PUT', '/auth/prefs', prefsSchema, b),
      me: () => call('GET', '/auth/me', meSchema),
      changePassword: (b: ChangePasswordBody) => call('POST', '/auth/password', okSchema, b),
      sessions: (p: PageQuery = {}) => call('GET', `/auth/sessions${q({ ...p })}`, listOf(sessionInfoSchema)),
      endSession: (id: string) => call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, okSchema),
      /** The signed-in browser's yes to a CLI (`hangar login --browser`): a one-time code. */
      approveCliLogin: (b: { challenge: string; name: string }) => call('POST', '/auth/cli-login', cliLoginCodeSchema, b),
      /** The CLI's trade of that code and its verifier for an API token. */
      redeemCliLogin: (b: { code: string; verifier: string }) => call('POST', '/auth/cli-token', createdTokenSchema, b),
    },
    users: {
      list: (p: PageQuery = {}) => call('GET', `/users${q({ ...p })}`, listOf(userSchema)),
      create: (b: CreateUserBody) => call('POST', '/users', userWithPasswordSchema, b),
      update: (id: string, b: UpdateUserBody) => call('PATCH', `/users/${encodeURIComponent(id)}`, userSchema, b),
      remove: (id: string) => call('DELETE', `/users/${encodeURIComponent(id)}`, okSchema),
      resetPassword: (id: string, password?: string) =>
        call('POST', `/users/${encodeURIComponent(id)}/password`, z.object({ password: z.string().optional() }), password ? { password } : {}),
    },
    sso: {
      options: () => call('GET', '/auth/sign-in-options', signInOptionsSchema),
      list: (p: PageQuery = {}) => call('GET', `/sso/providers${q({ ...p })}`, listOf(ssoProviderSchema)),
      create: (b: Partial<CreateSsoProviderBody> & Pick<CreateSsoProviderBody, 'name' | 'issuer' | 'clientId' | 'clientSecret' | 'roleMap'>) =>
        call('POST', '/sso/providers', ssoProviderSchema, b),
      update: (id: string, b: UpdateSsoProviderBody) => call('PATCH', `/sso/providers/${encodeURIComponent(id)}`, ssoProviderSchema, b),
      remove: (id: string) => call('DELETE', `/sso/providers/${encodeURIComponent(id)}`, okSchema),
    },
    limits: {
      /** What the caller may hold and holds now. */
      mine: () => call('GET', '/auth/limits', userLimitsSchema),
      list: (p: PageQuery = {}) => call('GET', `/users/limits${q({ ...p })}`, listOf(userLimitsSchema)),
      put: (userId: string, b: PutLimitsBody) => call('PUT', `/users/${encodeURIComponent(userId)}/limits`, userLimitsSchema, b),
    },
    shares: {
      list: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/shares${q({ ...p })}`, listOf(shareSchema)),
      create: (ref: string, b: CreateShareBody) => call('POST', `/machines/${encodeURIComponent(ref)}/shares`, createdShareSchema, b),
      revoke: (id: string) => call('DELETE', `/shares/${encodeURIComponent(id)}`, shareSchema),
      /** With a client made with `share`: what the link opens. */
      info: () => call('GET', '/share', shareInfoSchema),
      /** A read-only link to one recording of the machine (listed and revoked with its other links). */
      createForRecording: (ref: string, id: string, b: CreateRecordingShareBody) =>
        call('POST', `/machines/${encodeURIComponent(ref)}/recordings/${encodeURIComponent(id)}/shares`, createdShareSchema, b),
      /** With a client made with a recording link's `share`: the recording it opens, and its markers. */
      recordingInfo: () => call('GET', '/share/recording', recordingShareInfoSchema),
      recordingMarkers: () => call('GET', '/share/recording/markers', recordingMarkersSchema),
      /** Where a recording link's cast is served (fetched with the link in X-Hangar-Share). */
      recordingCastUrl: () => `${opts.baseUrl}/api/share/recording/cast`,
    },
    forkLinks: {
      list: (p: PageQuery = {}) => call('GET', `/fork-links${q({ ...p })}`, listOf(forkLinkSchema)),
      get: (id: string) => call('GET', `/fork-links/${encodeURIComponent(id)}`, forkLinkSchema),
      create: (b: CreateForkLinkBody) => call('POST', '/fork-links', createdForkLinkSchema, b),
      revoke: (id: string, forks: 'destroy' | 'keep' = 'destroy') => call('DELETE', `/fork-links/${encodeURIComponent(id)}${q({ forks })}`, forkLinkSchema),
      forks: (id: string, p: PageQuery = {}) => call('GET', `/fork-links/${encodeURIComponent(id)}/forks${q({ ...p })}`, listOf(forkLinkForkSchema)),
      act: (id: string, forkId: string, action: ForkAction) =>
        call(
          'POST',
          `/fork-links/${encodeURIComponent(id)}/forks/${encodeURIComponent(forkId)}/${action}`,
          z.object({ fork: forkLinkForkSchema, job: jobSchema.nullable() }),
        ),
      /** No account needed: the opener's own fork (the browser's cookie brings it back). */
      open: (token: string) => call('POST', '/fork-link/open', openedForkSchema, { token }),
    },
    grants: {
      mine: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/access`, machineAccessSchema),
      list: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/grants${q({ ...p })}`, listOf(grantSchema)),
      put: (ref: string, b: PutGrantBody) => call('POST', `/machines/${encodeURIComponent(ref)}/grants`, grantSchema, b),
      remove: (ref: string, userId: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}/grants/${encodeURIComponent(userId)}`, okSchema),
    },
    audit: {
      list: (p: AuditQuery = {}) => call('GET', `/audit${q(p)}`, auditPageSchema),
      exportUrl: (p: Omit<AuditQuery, 'cursor' | 'limit'> = {}) => `${opts.baseUrl}/api/audit/export${q(p)}`,
    },
    tokens: {
      list: (p: PageQuery = {}) => call('GET', `/tokens${q({ ...p })}`, listOf(apiTokenSchema)),
      create: (b: CreateTokenBody) => call('POST', '/tokens', createdTokenSchema, b),
      revoke: (id: string) => call('DELETE', `/tokens/${encodeURIComponent(id)}`, okSchema),
    },
    jobs: {
      /** Newest first, 100 a page unless `limit` says otherwise; `cursor`: the `next` of the previous page; `parent`: only that job's children. */
      list: (p: { state?: JobState; parent?: string } & PageQuery = {}) => call('GET', `/jobs${q(p)}`, listOf(jobSchema)),
      get: (id: string) => call('GET', `/jobs/${encodeURIComponent(id)}`, jobSchema),
      logs: (id: string, after = -1) => call('GET', `/jobs/${encodeURIComponent(id)}/logs${q({ after })}`, listOf(jobLogLineSchema)),
      cancel: (id: string) => call('POST', `/jobs/${encodeURIComponent(id)}/cancel`, jobSchema),
      demo: (b: Partial<DemoJobBody> = {}) => call('POST', '/jobs/demo', jobSchema, b),
    },
    machines: {
      /** By name; every machine unless `limit` (and `cursor`, the `next` of the previous page) asks for a page. */
      list: (p: PageQuery = {}) => call('GET', `/machines${q({ ...p })}`, listOf(machineSchema)),
      get: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}`, machineSchema),
      create: (b: Partial<CreateMachineBody> & Pick<CreateMachineBody, 'name'>) => call('POST', '/machines', jobSchema, b),
      act: (ref: string, action: MachineAction, b: Partial<StopMachineBody> = {}) =>
        call('POST', `/machines/${encodeURIComponent(ref)}/${action}`, jobSchema, b),
      destroy: (ref: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}`, jobSchema),
      bulk: (b: BulkBody) => call('POST', '/machines/bulk', bulkResultSchema, b),
      stats: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/stats`, machineStatsHistorySchema),
      logs: (ref: string, o: { from?: number; tail?: number } = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/logs${q(o)}`, logsSchema),
      unitFile: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/unit`, unitFileSchema),
      update: (ref: string, b: PatchMachineBody) => call('PATCH', `/machines/${encodeURIComponent(ref)}`, machineSchema, b),
      recordings: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/recordings${q({ ...p })}`, listOf(recordingSchema)),
      recordingMarkers: (ref: string, id: string) =>
        call('GET', `/machines/${encodeURIComponent(ref)}/recordings/${encodeURIComponent(id)}/markers`, recordingMarkersSchema),
      deleteRecording: (ref: string, id: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}/recordings/${encodeURIComponent(id)}`, okSchema),
      /** Where a recording's asciicast file is served (for the player, or a download with ?download=1). */
      recordingUrl: (ref: string, id: string) => `/api/machines/${encodeURIComponent(ref)}/recordings/${encodeURIComponent(id)}`,
      files: {
        stat: (ref: string, path: string) => call('GET', `/machines/${encodeURIComponent(ref)}/files${q({ path })}`, fileStatSchema),
        /** A tar stream of the file or directory at `path` (its name at the top). */
        pull: (ref: string, path: string) => send('GET', `/machines/${encodeURIComponent(ref)}/files/archive${q({ path })}`),
        push: async (ref: string, dir: string, body: BodyInit) =>
          filesPushedSchema.parse(
            await (
              await send('PUT', `/machines/${encodeURIComponent(ref)}/files/archive${q({ path: dir })}`, { body, contentType: 'application/x-tar' })
            ).json(),
          ),
        /** Where one file is served (a download link with ?download=1). */
        contentUrl: (ref: string, path: string, download = false) =>
          `/api/machines/${encodeURIComponent(ref)}/files/content${q({ path, download: download ? 1 : undefined })}`,
        upload: async (ref: string, path: string, body: BodyInit) =>
          filesPushedSchema.parse(
            await (
              await send('PUT', `/machines/${encodeURIComponent(ref)}/files/content${q({ path })}`, { body, contentType: 'application/octet-stream' })
            ).json(),
          ),
      },
      /** Extra disks (VMs) or volumes (containers). */
      disks: {
        list: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/disks`, listOf(machineDiskSchema)),
        add: (ref: string, b: Partial<AddDiskBody> & Pick<AddDiskBody, 'name'>) =>
          call('POST', `/machines/${encodeURIComponent(ref)}/disks`, machineDiskSchema, b),
        change: (ref: string, name: string, b: PatchDiskBody) =>
          call('PATCH', `/machines/${encodeURIComponent(ref)}/disks/${encodeURIComponent(name)}`, machineDiskSchema, b),
        remove: (ref: string, name: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}/disks/${encodeURIComponent(name)}`, okSchema),
      },
      /** Whether the caller may type on the machine's screen, or why it cannot be shown (409). */
      display: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}/display`, displayInfoSchema),
      /** Where a PNG of the screen is served. */
      screenshotUrl: (ref: string) => `/api/machines/${encodeURIComponent(ref)}/screenshot`,
      exec: (ref: string, argv: string[], timeoutS?: number) => call('POST', `/machines/${encodeURIComponent(ref)}/exec`, execResultSchema, { argv, timeoutS }),
      /** A command once in a fresh application container: each event of its NDJSON stream as it comes; resolves with the last. */
      runOnce: async (b: Partial<RunOnceBody> & Pick<RunOnceBody, 'image' | 'argv'>, onEvent: (e: RunOnceEvent) => void): Promise<RunOnceEvent | null> => {
        const res = await send('POST', '/machines/run', { body: JSON.stringify(b), contentType: 'application/json' });
        let last: RunOnceEvent | null = null;
        let buf = '';
        const dec = new TextDecoder();
        const take = (line: string) => {
          if (!line.trim()) return;
          last = runOnceEventSchema.parse(JSON.parse(line));
          onEvent(last);
        };
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            take(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        }
        take(buf);
        return last;
      },
    },
    probes: {
      start: (b: ProbeBody) => call('POST', '/probes', jobSchema, b),
      /** A local .deb for a probe (hangar probe --package FILE.deb): its upload id and what it is. */
      upload: async (body: BodyInit) =>
        uploadedPackageSchema.parse(await (await send('POST', '/probes/packages', { body, contentType: 'application/vnd.debian.binary-package' })).json()),
    },
    snapshots: {
      /** Oldest first (a parent before its children); every snapshot unless `limit` asks for a page. */
      list: (p: PageQuery = {}) => call('GET', `/snapshots${q({ ...p })}`, listOf(snapshotSchema)),
      get: (id: string) => call('GET', `/snapshots/${encodeURIComponent(id)}`, snapshotSchema),
      checkpoint: (machine: string, label?: string) => call('POST', `/machines/${encodeURIComponent(machine)}/checkpoint`, jobSchema, label ? { label } : {}),
      forkNow: (machine: string, b: ForkBody = {}) => call('POST', `/machines/${encodeURIComponent(machine)}/fork`, jobSchema, b),
      restore: (id: string, b: RestoreBody = {}) => call('POST', `/snapshots/${encodeURIComponent(id)}/restore`, jobSchema, b),
      fork: (id: string, b: ForkBody = {}) => call('POST', `/snapshots/${encodeURIComponent(id)}/fork`, jobSchema, b),
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
    images: {
      list: (p: PageQuery = {}) => call('GET', `/images${q({ ...p })}`, listOf(imageSchema)),
      build: (b: BuildImageBody) => call('POST', '/images', jobSchema, b),
      remove: (id: string) => call('DELETE', `/images/${encodeURIComponent(id)}`, okSchema),
      /** Pull an OCI image from a registry: the pull job (already finished when the image was there). */
      pull: (b: { ref: string; policy?: 'always' | 'missing' }) => call('POST', '/images/pull', jobSchema, b),
      /** Upload an image archive (docker save / podman save / OCI layout tar): the import job. */
      importArchive: async (body: BodyInit, name?: string) =>
        jobSchema.parse(await (await send('POST', `/images/import${q({ name })}`, { body, contentType: 'application/x-tar' })).json()),
      /** Upload a root filesystem tarball (plain or compressed) as image `query.name`: the unpack job. */
      importRootfs: async (body: BodyInit, query: { name: string; sha256?: string; file?: string; allowSetuid?: boolean }) =>
        jobSchema.parse(
          await (
            await send('POST', `/images/rootfs${q({ ...query, allowSetuid: query.allowSetuid ? '1' : undefined })}`, {
              body,
              contentType: 'application/octet-stream',
            })
          ).json(),
        ),
      /** Upload a VM disk image (qcow2 or raw) as image `query.name`: the job that keeps it once checked. */
      importDisk: async (body: BodyInit, query: { name: string; sha256?: string; file?: string }) =>
        jobSchema.parse(await (await send('POST', `/images/disk${q(query)}`, { body, contentType: 'application/octet-stream' })).json()),
      /** A VM disk image the server downloads (url) or takes from a file on the server (path): the job. */
      importDiskFrom: (b: ImportDiskBody) => call('POST', '/images/disk/from', jobSchema, b),
      /** A root filesystem tarball the server downloads: the job. */
      importRootfsUrl: (b: ImportRootfsUrlBody) => call('POST', '/images/rootfs/url', jobSchema, b),
      /** This Hangar's publishing key (public): what other Hangars trust to pull its images. */
      signingKey: () => call('GET', '/images/signing-key', signingKeySchema),
      publish: (name: string, b: PublishImageBody) => call('POST', `/images/${encodeURIComponent(name)}/publish`, jobSchema, b),
      pullPublished: (b: PullPublishedBody) => call('POST', '/images/pull-published', jobSchema, b),
      published: (target: string) => call('GET', `/backup-targets/${encodeURIComponent(target)}/images`, listOf(publishedImageSchema)),
    },
    /** The nodes of a cluster (PostgreSQL); admins only. */
    nodes: {
      list: (p: PageQuery = {}) => call('GET', `/nodes${q({ ...p })}`, listOf(nodeSchema)),
      /** A single-use join token, shown once, with the `hangar up --cluster-join` line for the new node. */
      createToken: (b: CreateJoinTokenBody = {}) => call('POST', '/nodes/join-tokens', joinTokenSchema, b),
      revokeToken: (id: string) => call('DELETE', `/nodes/join-tokens/${encodeURIComponent(id)}`, okSchema),
      drain: (name: string) => call('POST', `/nodes/${encodeURIComponent(name)}/drain`, nodeSchema),
      undrain: (name: string) => call('POST', `/nodes/${encodeURIComponent(name)}/undrain`, nodeSchema),
      remove: (name: string) => call('DELETE', `/nodes/${encodeURIComponent(name)}`, okSchema),
    },
    /** The ISO library (installers for `iso` machines). */
    isos: {
      list: (p: PageQuery = {}) => call('GET', `/isos${q({ ...p })}`, listOf(isoSchema)),
      /** Upload an ISO (the raw bytes) under `name`: kept only when it is ISO 9660 or UDF and within the cap. */
      upload: async (body: BodyInit, name: string) =>
        isoSchema.parse(await (await send('POST', `/isos${q({ name })}`, { body, contentType: 'application/octet-stream' })).json()),
      /** An ISO the server downloads: the job. */
      download: (b: AddIsoUrlBody) => call('POST', '/isos/url', jobSchema, b),
      remove: (name: string) => call('DELETE', `/isos/${encodeURIComponent(name)}`, okSchema),
      /** Eject or insert a disc in a running VM's CD-ROM drive. */
      cdrom: (machine: string, b: CdromBody) => call('POST', `/machines/${encodeURIComponent(machine)}/cdrom`, cdromStateSchema, b),
    },
    registries: {
      list: () => call('GET', '/registries', listOf(registrySchema)),
      put: (host: string, b: PutRegistryBody) => call('PUT', `/registries/${encodeURIComponent(host)}`, registrySchema, b),
      remove: (host: string) => call('DELETE', `/registries/${encodeURIComponent(host)}`, okSchema),
    },
    runs: {
      /** A run's stdin (the id from its start event), streamed; the stream's end is the command's EOF. */
      stdin: async (id: string, body: ReadableStream<Uint8Array>) =>
        okSchema.parse(await (await send('POST', `/runs/${encodeURIComponent(id)}/stdin`, { body, contentType: 'application/octet-stream' })).json()),
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

export type ApiClient = ReturnType<typeof createApiClient>;
