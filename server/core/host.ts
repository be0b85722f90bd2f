import fs from 'node:fs/promises';
import path from 'node:path';
import type { HostInfo } from '@/lib/contracts/host';
import { probeHost } from '@/server/drivers/host';

/** Host capabilities, probed in the background at start-up and on request; never blocks a request for long. */
export class HostService {
  private current: Promise<HostInfo> | null = null;

  constructor(private readonly layout: { probe: string; kernels: string }) {}

  info(refresh = false): Promise<HostInfo> {
    if (refresh || !this.current) this.current = this.probe();
    return this.current;
  }

  private async probe(): Promise<HostInfo> {
    const kernels = await fs.readdir(this.layout.kernels).catch(() => [] as string[]);
    const kernel = kernels.find((k) => k.startsWith('vmlinuz'));
    return probeHost({ workDir: this.layout.probe, kernel: kernel ? path.join(this.layout.kernels, kernel) : null });
  }
}
