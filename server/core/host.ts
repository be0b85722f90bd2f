import fs from 'node:fs/promises';
import path from 'node:path';
import type { HostInfo } from '@/lib/contracts/host';
import type { DriverRegistry } from '@/server/drivers/types';

/** Host capabilities, probed in the background at start-up and on request; never blocks a request for long. */
export class HostService {
  private current: Promise<HostInfo> | null = null;
  private last: HostInfo | null = null;
  /** Called after each probe (machine views say what the host allows: they change with it). */
  onProbed: (info: HostInfo) => void = () => undefined;

  constructor(
    private readonly layout: { probe: string; kernels: string },
    private readonly drivers: Pick<DriverRegistry, 'probeHost'>,
  ) {}

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

  /** The last probe's answer without waiting for one; null before the first has finished. */
  known(): HostInfo | null {
    return this.last;
  }

  private async probe(): Promise<HostInfo> {
    const info = await this.drivers.probeHost({ workDir: this.layout.probe, kernel: await this.kernel() });
    this.last = info;
    this.onProbed(info);
    return info;
  }
}
