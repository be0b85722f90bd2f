import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type RegistryInfo } from '../server/integration/oci-registry';

/**
 * The e2e run's registry (Debian's docker-registry, plain HTTP on 127.0.0.1), started once and shared by
 * the specs that push and pull images: its address and dirs reach the workers through E2E_REGISTRY.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-e2e-registry-'));
  const reg = await startRegistry(path.join(dir, 'registry'));
  const { stop: _stop, ...info } = reg;
  process.env.E2E_REGISTRY = JSON.stringify(info satisfies RegistryInfo);
  return async () => {
    await reg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

/** The run's registry, in a spec (a spec pushes its own images and leaves it running). */
export function e2eRegistry(): RegistryInfo {
  const raw = process.env.E2E_REGISTRY;
  if (!raw) throw new Error('E2E_REGISTRY is not set: the registry starts in e2e/global-setup.ts (playwright.config.ts globalSetup)');
  return JSON.parse(raw) as RegistryInfo;
}
