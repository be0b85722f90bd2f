import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { jobDone } from './harness';

/** A root filesystem of the host's busybox-static: enough for an nspawn container's shell and exec (through /usr/bin/env). */
export function busyboxTree(dir: string, applets = ['sh', 'cat', 'echo', 'rm', 'mkdir', 'chmod', 'sleep', 'sync']): void {
  for (const d of ['bin', 'etc', 'usr/bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'root']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of applets) fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  fs.symlinkSync('../../bin/busybox', path.join(dir, 'usr/bin/env'));
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

/** That tree (with `files` added: path in the tree -> text) tarred in `tmp` and imported as the root filesystem image `name`. */
export async function importBusyboxRootfs(api: ApiClient, tmp: string, name: string, applets?: string[], files: Record<string, string> = {}): Promise<void> {
  const tree = path.join(tmp, `${name}-tree`);
  busyboxTree(tree, applets);
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(tree, file), text);
  const tar = path.join(tmp, `${name}.tar`);
  await run(['tar', '--numeric-owner', '-C', tree, '-cf', tar, '.']);
  const job = await jobDone(api, await api.images.importRootfs(new Uint8Array(fs.readFileSync(tar)), { name, file: `${name}.tar` }), 120_000);
  if (job.state !== 'succeeded') throw new Error(`${job.title}: ${job.error}`);
}

/** importBusyboxRootfs with a temporary directory of its own, removed after. */
export async function importBusyboxImage(api: ApiClient, name: string): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-bb-'));
  try {
    await importBusyboxRootfs(api, tmp, name);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
