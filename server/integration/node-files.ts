import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { jobDone } from './harness';

/** The command lines (NULs as spaces) of processes that name `text`. */
export const processesNaming = (text: string): string[] =>
  fs.readdirSync('/proc').flatMap((p) => {
    try {
      const cmd = /^\d+$/.test(p) ? fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').replaceAll('\0', ' ') : '';
      return cmd.includes(text) ? [cmd] : [];
    } catch {
      return [];
    }
  });

/** qemu processes whose command line names `dir` (a node's data dir). */
export const qemusUnder = (dir: string): number[] =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1');
        return cmd.startsWith('qemu-system') && cmd.includes(dir + '/');
      } catch {
        return false;
      }
    })
    .map(Number);

/** Files of the machine's own in a node's layers dir (its writable layer, copies of the layers below it). */
export const layersOf = (dataDir: string, id: string) =>
  fs.existsSync(path.join(dataDir, 'layers')) ? fs.readdirSync(path.join(dataDir, 'layers')).filter((f) => f.startsWith(id)) : [];

/** A job's log as one text, and a job waited for that must succeed (its log in the error), through the client `api()` gives now. */
export function jobsThrough(api: () => ApiClient) {
  const logOf = async (id: string) => (await api().jobs.logs(id)).items.map((l) => l.line).join('\n');
  const done = async (job: Job, ms = 300_000) => {
    const j = await jobDone(api(), job, ms);
    if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}\n${await logOf(j.id)}`);
    return j;
  };
  return { logOf, done };
}
