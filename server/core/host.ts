import fs from 'node:fs/promises';
import path from 'node:path';
import type { HostInfo } from '@/lib/contracts/host';
import { probeHost } from '@/server/drivers/host';

/** Host capabilities, probed in the background at start-up and on request; never blocks a request for long. */
export class HostService {
  private current: Promise<HostInfo> | null = null;

  constructor(private readonly layout: { probe: string; kernels: string }) {}

  /** A cached guest kernel (kernels/<version>/vmlinuz), once an image build has fetched one. */
  private async kernel(): Promise<string | null> {
    const versions = await fs.readdir(this.layout.kernels).catch(() => [] as string[]);
    for (const v of versions
      .filter((x) => !x.startsWith('.'))
      .sort()
      .reverse()) {
      const p = path.join(this.layout.kernels, v, 'vmlinuz');
      if (
        await fs.stat(p).then(
          () => true,
          () => false,
        )
      )
        return p;
    }
    return null;
  }

  info(refresh = false): Promise<HostInfo> {
    if (refresh || !this.current) this.current = this.probe();
    return this.current;
  }

  private async probe(): Promise<HostInfo> {
    return probeHost({ workDir: this.layout.probe, kernel: await this.kernel() });
  }
}
