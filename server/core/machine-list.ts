import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Machine } from '@/lib/contracts/machines';
import type { EventBus } from './events';

/**
 * The machine list and its JSON, kept until a machine changes: dashboards and scripts poll it,
 * and 1,000 rows are 300 KB to read, parse and serialize each time. Every write to a machine
 * row publishes machine:update or machine:removed, which drops the copy (and so does a new host
 * probe: what machines can do depends on it).
 */
export class MachineList {
  private kept: { items: Promise<Machine[]>; json?: string; gzip?: Promise<Buffer> } | null = null;

  constructor(
    private readonly load: () => Promise<Machine[]>,
    bus: EventBus,
  ) {
    bus.subscribe('machine:update', this.drop);
    bus.subscribe('machine:removed', this.drop);
  }

  readonly drop = (): void => {
    this.kept = null;
  };

  items(): Promise<Machine[]> {
    const mine = (this.kept ??= { items: this.load() });
    // A failed read is not kept.
    mine.items.catch(() => this.kept === mine && (this.kept = null));
    return mine.items;
  }

  async json(): Promise<string> {
    const items = await this.items();
    const mine = this.kept;
    if (mine?.json !== undefined) return mine.json;
    const json = JSON.stringify({ items });
    if (mine) mine.json = json;
    return json;
  }

  /**
   * The same JSON gzipped, made once per change (off the event loop): every machine carries its
   * driver's description, which repeats from machine to machine and compresses to almost nothing
   * (1,000 machines: 1.9 MB of JSON, 19 KB gzipped).
   */
  async gzip(): Promise<Buffer> {
    const json = await this.json();
    const mine = this.kept;
    if (mine?.json === json && mine.gzip) return mine.gzip;
    const zipped = gzip(json, { level: 6 });
    if (mine?.json === json) mine.gzip = zipped;
    return zipped;
  }
}

const gzip = promisify(zlib.gzip);
