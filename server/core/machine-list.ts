import type { Machine } from '@/lib/contracts/machines';
import type { EventBus } from './events';

/**
 * The machine list and its JSON, kept until a machine changes: dashboards and scripts poll it,
 * and 1,000 rows are 300 KB to read, parse and serialize each time. Every write to a machine
 * row publishes machine:update or machine:removed, which drops the copy (and so does a new host
 * probe: what machines can do depends on it).
 */
export class MachineList {
  private kept: { items: Promise<Machine[]>; json?: string } | null = null;

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
}
