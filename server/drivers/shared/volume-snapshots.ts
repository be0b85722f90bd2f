import fs from 'node:fs';
import path from 'node:path';
import { run } from '../exec';
import type { BranchTarget, CheckpointResult, DriverRuntime, MachineSpec, SnapshotSource } from '../types';
import { diskUsage } from './disk-usage';
import { branchVolumes, freezeVolumes, recordVolumes } from './volumes';

/**
 * A directory container's filesystem checkpoint: its writable layer copied (reflinked where the
 * filesystem can) into a new frozen layer under `m.layers`, and each volume's contents into the
 * snapshot's `dir`, with the container frozen meanwhile (`freeze`: pauses it and returns the
 * resume; null when it is stopped) so both copies are of one moment. Memory is not saved.
 */
export async function checkpointTree(
  m: MachineSpec,
  upper: string,
  dir: string,
  freeze: (() => Promise<() => Promise<void>>) | null,
): Promise<CheckpointResult> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const frozen = path.join(m.layers, `${m.id}-${Date.now().toString(36)}.d`);
  fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
  const t0 = performance.now();
  const resume = freeze ? await freeze() : null;
  try {
    const r = await run(['cp', '-a', '--reflink=auto', '--', `${upper}/.`, `${frozen}/`], { timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw new Error(`copying the container's layer failed: ${r.stderr.trim().split('\n')[0]}`);
    await freezeVolumes(m, dir);
  } catch (err) {
    fs.rmSync(frozen, { recursive: true, force: true });
    throw err;
  } finally {
    if (resume) await resume().catch(() => undefined);
  }
  return { live: false, frozenDisk: frozen, pauseMs: resume ? Math.round(performance.now() - t0) : null, sizeBytes: diskUsage(frozen) };
}

/** The machine's volumes as its snapshot's record keeps them (names, guest paths, attached). */
export const snapshotVolumes = (m: MachineSpec) => ({ volumes: recordVolumes(m.runtime) });

/** Branch records with each target's own copy of the snapshot's volumes (see branchVolumes). */
export async function withVolumes(snap: SnapshotSource, targets: BranchTarget[], runtimes: DriverRuntime[]): Promise<DriverRuntime[]> {
  for (const [i, t] of targets.entries()) Object.assign(runtimes[i], { volumes: await branchVolumes(snap.dir, snap.record, t.dir) });
  return runtimes;
}
