import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, startServer, tearDown } from '@/server/integration/harness';
import { startS3 } from '@/server/integration/s3-server';
import { round } from './stats';

async function finished(api: ApiClient, job: Job, ms = 600_000): Promise<Job> {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
}
const secs = (j: Job) => ((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 1000;
type Result = { uploadedBytes: number; uploadedObjects: number; skippedObjects: number; sizeBytes: number };

/**
 * Backups of a 512 MB busybox VM's live snapshot (64 MiB of random data on its disk) to the local
 * S3 server (s3rver) and to a directory; then a small change and a second backup (only the new
 * layer and the new memory go up); a checkpoint taken while a backup uploads against one taken
 * idle; and a restore from the S3 backup into a new machine against a fork of the same local
 * snapshot, in the same run.
 */
export async function run() {
  const s3 = await startS3('bench');
  const srv = await startServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-backups-'));
  const api = client(srv.url, await adminToken(srv.url));
  try {
    await finished(api, await api.images.build({ kind: 'busybox' }));
    await finished(api, await api.machines.create({ name: 'bb', image: 'busybox', memoryMib: 512 }));
    const s3Target = { kind: 's3' as const, endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    await api.backups.addTarget({ ...s3Target, name: 's3' });
    await api.backups.addTarget({ ...s3Target, name: 's3-busy', prefix: 'busy' });
    await api.backups.addTarget({ kind: 'dir', name: 'dir', path: dir });
    const write = (mb: number, seek: number) =>
      api.machines.exec('bb', ['sh', '-c', `dd if=/dev/urandom of=/dev/vda bs=1M count=${mb} seek=${seek} conv=notrunc 2>/dev/null; sync`]);
    await write(64, 10);
    const c1 = ((await finished(api, await api.snapshots.checkpoint('bb', 'c1'))).result as { snapshot: string }).snapshot;
    const toS3 = await finished(api, await api.backups.create(c1, 's3'));
    const toDir = await finished(api, await api.backups.create(c1, 'dir'));
    const full = toS3.result as Result;
    await write(1, 100);
    const c2job = await finished(api, await api.snapshots.checkpoint('bb', 'c2'));
    const idlePause = (c2job.result as { pauseMs: number }).pauseMs;
    const inc = await finished(api, await api.backups.create('c2', 's3'));
    const incr = inc.result as Result;

    // A checkpoint while a full backup uploads (to a second prefix, so nothing is skipped).
    const busy = await api.backups.create(c1, 's3-busy');
    await new Promise((r) => setTimeout(r, 1500));
    const c3job = await finished(api, await api.snapshots.checkpoint('bb', 'c3'));
    const busyPause = (c3job.result as { pauseMs: number }).pauseMs;
    const busyState = (await api.jobs.get(busy.id)).state;
    await finished(api, busy);

    const [backup] = (await api.backups.list('s3')).items.filter((b) => b.snapshotId === c1);
    const restore = await finished(api, await api.backups.restore('s3', backup.id, 'from-backup'));
    const local = await finished(api, await api.snapshots.fork(c1, { count: 1, names: ['from-local'] }));
    const answered = await api.machines.exec('from-backup', ['true']);
    if (answered.code !== 0) throw new Error(`the restored machine does not answer: ${answered.stderr}`);
    const mb = (b: number) => b / 2 ** 20;
    return {
      guest_ram_mb: 512,
      snapshot_mb: round(mb(full.sizeBytes), 1),
      backup_s3_s: round(secs(toS3)),
      backup_mb_s: round(mb(full.sizeBytes) / secs(toS3), 1),
      backup_dir_s: round(secs(toDir)),
      backup_dir_mb_s: round(mb((toDir.result as Result).sizeBytes) / secs(toDir), 1),
      full_backup_bytes: full.uploadedBytes,
      incremental_backup_s: round(secs(inc)),
      incremental_backup_bytes: incr.uploadedBytes,
      incremental_ratio: round(incr.uploadedBytes / full.uploadedBytes, 3),
      incremental_objects: `${incr.uploadedObjects} sent, ${incr.skippedObjects} skipped`,
      checkpoint_pause_ms: busyPause,
      idle_pause_ms: idlePause,
      pause_ratio_during_backup: round(busyPause / Math.max(idlePause, 1), 2),
      backup_running_during_checkpoint: busyState === 'running',
      restore_from_backup_s: round(secs(restore)),
      local_fork_s: round(secs(local)),
      restore_ratio: round(secs(restore) / secs(local), 1),
      note:
        'backup_mb_s: raw snapshot bytes (RAM, state, every disk layer) over the backup job time, gzip level 1 on the way; ' +
        'incremental: a second live snapshot after 1 MiB written (its new disk layer, device state and the RAM chunks that changed); ' +
        'restore_ratio: restore from the S3 backup into a new machine (download, verify, join layers, import, fork) over a fork ' +
        'of the same local snapshot',
    };
  } finally {
    await tearDown(srv, api);
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
