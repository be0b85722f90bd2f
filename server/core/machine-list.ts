import { createHash } from 'node:crypto';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { Machine, MachineList as MachineListBody } from '@/lib/contracts/machines';
import { isValidId } from '@/lib/contracts/common';
import { CachedJson, joinedJson } from './cached-json';
import type { EventBus } from './events';
import { encodeCursor, firstAfter } from './paging';

/** How the list reads machines (core turns rows into machines with what their drivers say). */
export interface MachineReader {
  all(): Promise<Machine[]>;
  /** The machines with these ids; a missing id is left out. */
  byIds(ids: string[]): Promise<Machine[]>;
  /** One machine by id or name, or undefined. */
  one(ref: string): Promise<Machine | undefined>;
}

interface Entry {
  machine: Machine;
  /** Its JSON, made when the machine last changed. */
  body: CachedJson;
  /** The same as a list item: its description named by key (machineListSchema). */
  lean: CachedJson;
  capsKey: string;
  /** Sort key (the name), for the paging search. */
  k: string;
}

/** Re-reading this many changed machines one by one costs more than reading the whole list again. */
const RELOAD_OVER = 64;
/**
 * Pages kept per version of the list (each distinct cursor and limit asked for; past it the least
 * recently asked for goes). A page keeps only its compressed forms (a few KB): its text is made
 * from its machines' kept JSON when asked for plain.
 */
const MAX_PAGES = 2048;
/** Descriptions kept by key before those no machine names are dropped (or twice as many as were in use then). */
const MAX_DESCRIPTIONS = 64;

/**
 * The machine list kept in memory, machine by machine, with each machine's JSON, and the list's
 * and its pages' JSON, ETags and compressed forms made once per change. Every write to a machine
 * row publishes machine:update or machine:removed: that machine alone is read again (when next
 * asked for), so 1,000 machines changing state cost one row each, not the whole list per change.
 */
export class MachineList {
  private entries: Map<string, Entry> | null = null;
  private readonly idOf = new Map<string, string>();
  private loading: Promise<void> | null = null;
  /** Changed since read: machine id -> the change's number. */
  private readonly stale = new Map<string, number>();
  private changes = 0;
  private refreshing: Promise<void> | null = null;
  private sortedCache: Entry[] | null = null;
  private full: CachedJson | null = null;
  private readonly pages = new Map<string, CachedJson>();
  /** The descriptions the machines name, by key, as JSON. */
  private descriptions = new Map<string, string>();
  private pruneAt = MAX_DESCRIPTIONS;

  constructor(
    private readonly read: MachineReader,
    bus: EventBus,
  ) {
    bus.subscribe('machine:update', (m) => this.changed(m.id));
    // Stale as well: a full read in flight may still bring it back, and the next reader drops it for good.
    bus.subscribe('machine:removed', ({ id }) => this.heard(id, true));
  }

  /** Every machine, by name. */
  async items(): Promise<Machine[]> {
    return (await this.sorted()).map((e) => e.machine);
  }

  /** One machine by id or by name (names never contain `_`, ids always do); undefined when there is none. */
  async one(ref: string): Promise<{ machine: Machine; body: CachedJson } | undefined> {
    await this.load();
    const id = isValidId(ref) ? ref : this.idOf.get(ref);
    if (id && this.stale.has(id)) await this.reread([id]);
    const e = id ? this.entries!.get(id) : undefined;
    if (e) return e;
    // A name not seen: it may be a machine made since the last change we heard of.
    if (!id && this.stale.size) {
      await this.fresh();
      const again = this.idOf.get(ref);
      if (again) return this.entries!.get(again);
    }
    // Not in the list: none, or one made since the last change heard of (by another node of a cluster, whose notice
    // is still on its way): its row, read once, joins the list.
    const m = await this.read.one(ref);
    if (!m) return undefined;
    this.changed(m.id);
    await this.reread([m.id]);
    return this.entries!.get(m.id);
  }

  /** `{ items, next: null, capabilities }` of every machine. */
  async json(): Promise<CachedJson> {
    const sorted = await this.sorted();
    return (this.full ??= new CachedJson(`${LIST_HEAD}${sorted.map((e) => e.lean.json).join(',')}${this.tail(sorted, null)}`, true));
  }

  /** `limit` machines after the one named `after` (a name), as `{ items, next, capabilities }`. */
  async page(after: string | undefined, limit: number): Promise<CachedJson> {
    const sorted = await this.sorted();
    const key = `${after ?? ''}\n${limit}`;
    const kept = this.pages.get(key);
    if (kept) {
      // The most recently asked for goes last: the first in the map is the one to drop.
      this.pages.delete(key);
      this.pages.set(key, kept);
      return kept;
    }
    const start = after === undefined ? 0 : firstAfter(sorted, after);
    const items = sorted.slice(start, start + limit);
    const next = start + limit < sorted.length && items.length ? encodeCursor(items[items.length - 1].k) : null;
    const body = joinedJson(
      LIST_HEAD,
      items.map((e) => e.lean),
      this.tail(items, next),
    );
    if (this.pages.size >= MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, body);
    return body;
  }

  /**
   * A user's machines may have changed without a machine event: deleting a user sets their
   * machines' owner to none in the database itself (a foreign key). Read those again.
   */
  ownerChanged(userId: string): void {
    for (const e of this.entries?.values() ?? []) if (e.machine.ownerId === userId) this.changed(e.machine.id);
  }

  /** Another node of the cluster changed (or removed) this machine: it is read again when next asked for. */
  heard(id: string, removed: boolean): void {
    this.changed(id);
    if (removed) this.drop(id);
  }

  /** Every machine is read again (what machines can do depends on the host's last probe). */
  changedAll(): void {
    for (const id of this.entries?.keys() ?? []) this.changed(id);
  }

  private changed(id: string): void {
    this.stale.set(id, ++this.changes);
    this.full = null;
    this.pages.clear();
  }

  private drop(id: string): void {
    const e = this.entries?.get(id);
    if (!e) return;
    this.entries!.delete(id);
    if (this.idOf.get(e.machine.name) === id) this.idOf.delete(e.machine.name);
    this.sortedCache = null;
  }

  private put(m: Machine): void {
    const old = this.entries!.get(m.id);
    if (old && old.machine.name !== m.name) this.idOf.delete(old.machine.name);
    if (!old || old.machine.name !== m.name) this.sortedCache = null;
    const { capabilities, ...rest } = m;
    const caps = JSON.stringify(capabilities);
    const capsKey = descriptionKey(caps);
    this.descriptions.set(capsKey, caps);
    const e: Entry = {
      machine: m,
      body: new CachedJson(JSON.stringify(m), true),
      lean: new CachedJson(JSON.stringify({ ...rest, capabilitiesKey: capsKey })),
      capsKey,
      k: m.name,
    };
    this.entries!.set(m.id, e);
    this.idOf.set(m.name, m.id);
    // Descriptions no machine names any more go now and then (a host probe may change them all).
    if (this.descriptions.size > this.pruneAt) {
      const used = new Set([...this.entries!.values()].map((x) => x.capsKey));
      for (const k of this.descriptions.keys()) if (!used.has(k)) this.descriptions.delete(k);
      this.pruneAt = Math.max(MAX_DESCRIPTIONS, 2 * this.descriptions.size);
    }
    // Same position in the sorted list: swap the entry in place.
    if (old && this.sortedCache) {
      const i = this.sortedCache.indexOf(old);
      if (i >= 0) this.sortedCache[i] = e;
    }
  }

  /** What follows a list's items: its cursor and the descriptions they name. */
  private tail(items: readonly Entry[], next: string | null): string {
    const keys = new Set(items.map((e) => e.capsKey));
    const caps = [...keys].map((k) => `${JSON.stringify(k)}:${this.descriptions.get(k)}`).join(',');
    return `],"next":${JSON.stringify(next)},"capabilities":{${caps}}}`;
  }

  private async sorted(): Promise<Entry[]> {
    await this.fresh();
    return (this.sortedCache ??= [...this.entries!.values()].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)));
  }

  private async load(): Promise<void> {
    if (!this.entries) await (this.loading ??= this.readAll().finally(() => (this.loading = null)));
  }

  /** Read every machine and swap the new list in whole. */
  private async readAll(): Promise<void> {
    // Changes heard during the read are read again afterwards (their number is above `from`).
    const from = this.changes;
    const all = await this.read.all();
    this.entries = new Map();
    this.descriptions = new Map();
    this.idOf.clear();
    this.sortedCache = null;
    for (const m of all) this.put(m);
    for (const [id, n] of this.stale) if (n <= from) this.stale.delete(id);
  }

  /** Every change published before this call is in the list when it resolves. */
  private async fresh(): Promise<void> {
    await this.load();
    const upTo = this.changes;
    const pending = () => [...this.stale.values()].some((n) => n <= upTo);
    while (pending()) await (this.refreshing ??= this.reread([...this.stale.keys()]).finally(() => (this.refreshing = null)));
  }

  private async reread(ids: string[]): Promise<void> {
    if (ids.length > RELOAD_OVER) return this.readAll();
    const seen = new Map(ids.map((id) => [id, this.stale.get(id)]));
    const rows = await this.read.byIds(ids);
    const found = new Set<string>();
    for (const m of rows) {
      found.add(m.id);
      // Changed again while we read: left stale for the next reader.
      if (this.stale.get(m.id) !== seen.get(m.id)) continue;
      this.stale.delete(m.id);
      this.put(m);
    }
    for (const id of ids) {
      if (found.has(id) || this.stale.get(id) !== seen.get(id)) continue;
      this.stale.delete(id);
      this.drop(id);
    }
  }
}

const LIST_HEAD = '{"items":[';

/** The key a description goes by in a list: a hash of its JSON (the same description has the same key on every node). */
export function descriptionKey(json: string): string {
  return createHash('sha1').update(json).digest('base64url').slice(0, 16);
}

/** Machines as a list answers them (machineListSchema): each description once. */
export function machineListBody(machines: readonly Machine[], next: string | null): MachineListBody {
  const capabilities: Record<string, DriverDescription> = {};
  const items = machines.map(({ capabilities: c, ...m }) => {
    const key = descriptionKey(JSON.stringify(c));
    capabilities[key] = c;
    return { ...m, capabilitiesKey: key };
  });
  return { items, next, capabilities };
}
