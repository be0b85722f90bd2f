import { readJsonLines } from './ndjson';
import { machineDiskSchema, type AddDiskBody, type PatchDiskBody } from '@/lib/contracts/disks';
import { fileStatSchema, filesPushedSchema } from '@/lib/contracts/files';
import { displayInfoSchema } from '@/lib/contracts/display';
import { listOf, okSchema, type PageQuery } from '@/lib/contracts/common';
import { uploadedPackageSchema, type ProbeBody } from '@/lib/contracts/probes';
import { jobLogLineSchema, jobSchema, type DemoJobBody, type JobState } from '@/lib/contracts/jobs';
import { recordingMarkersSchema, recordingSchema, type PatchMachineBody } from '@/lib/contracts/recordings';
import { machineStatsHistorySchema } from '@/lib/contracts/stats';
import {
  bulkResultSchema,
  execResultSchema,
  logsSchema,
  machineListSchema,
  machineSchema,
  runOnceEventSchema,
  withCapabilities,
  unitFileSchema,
  type AdoptBody,
  type BulkBody,
  type CreateMachineBody,
  type ExecStreamBody,
  type MachineAction,
  type RunOnceBody,
  type RunOnceEvent,
  type StopMachineBody,
} from '@/lib/contracts/machines';
import type { MoveBody } from '@/lib/contracts/moves';
import type { Transport } from './transport';

/** Jobs, and machines: their lifecycle, recordings, files, disks, screen, exec and run-once; probes. */
export function machinesApi({ send, call, q }: Transport) {
  /** POST `path` with `body`, then each event of its NDJSON answer as it comes; resolves with the last (null: none). */
  const runEvents = async (path: string, body: unknown, onEvent: (e: RunOnceEvent) => void): Promise<RunOnceEvent | null> => {
    const res = await send('POST', path, { body: JSON.stringify(body), contentType: 'application/json' });
    let last: RunOnceEvent | null = null;
    await readJsonLines(res.body as unknown as AsyncIterable<Uint8Array>, (v) => {
      last = runOnceEventSchema.parse(v);
      onEvent(last);
    });
    return last;
  };
  return {
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
      list: async (p: PageQuery = {}) => withCapabilities(await call('GET', `/machines${q({ ...p })}`, machineListSchema)),
      get: (ref: string) => call('GET', `/machines/${encodeURIComponent(ref)}`, machineSchema),
      create: (b: Partial<CreateMachineBody> & Pick<CreateMachineBody, 'name'>) => call('POST', '/machines', jobSchema, b),
      /** A machine that exists already, reached over SSH (its private key sent once, kept by the server). */
      adopt: (b: AdoptBody) => call('POST', '/machines/adopt', machineSchema, b),
      act: (ref: string, action: MachineAction, b: Partial<StopMachineBody> = {}) =>
        call('POST', `/machines/${encodeURIComponent(ref)}/${action}`, jobSchema, b),
      destroy: (ref: string) => call('DELETE', `/machines/${encodeURIComponent(ref)}`, jobSchema),
      /** To another node of the cluster (a running VM live); the job's result says how long the guest was stopped. */
      move: (ref: string, b: MoveBody) => call('POST', `/machines/${encodeURIComponent(ref)}/move`, jobSchema, b),
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
      /**
       * exec with its output as it comes: each event of its NDJSON stream (stdout as it comes, stderr at the end); resolves
       * with the last. With `stdin: true` the start event's `stdin` id takes the input (runs.stdin).
       */
      execStream: (ref: string, b: Partial<ExecStreamBody> & Pick<ExecStreamBody, 'argv'>, onEvent: (e: RunOnceEvent) => void) =>
        runEvents(`/machines/${encodeURIComponent(ref)}/exec/stream`, b, onEvent),
      /** A command once in a fresh application container: each event of its NDJSON stream as it comes; resolves with the last. */
      runOnce: (b: Partial<RunOnceBody> & Pick<RunOnceBody, 'image' | 'argv'>, onEvent: (e: RunOnceEvent) => void) => runEvents('/machines/run', b, onEvent),
    },
    probes: {
      start: (b: ProbeBody) => call('POST', '/probes', jobSchema, b),
      /** A local .deb for a probe (hangar probe --package FILE.deb): its upload id and what it is. */
      upload: async (body: BodyInit) =>
        uploadedPackageSchema.parse(await (await send('POST', '/probes/packages', { body, contentType: 'application/vnd.debian.binary-package' })).json()),
    },
    runs: {
      /** A run's stdin (the machine and id from its start event), streamed; the stream's end is the command's EOF. */
      stdin: async (machine: string, id: string, body: ReadableStream<Uint8Array>) =>
        okSchema.parse(
          await (
            await send('POST', `/machines/${encodeURIComponent(machine)}/stdin/${encodeURIComponent(id)}`, { body, contentType: 'application/octet-stream' })
          ).json(),
        ),
    },
  };
}
