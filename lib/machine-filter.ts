import { driverKinds, machineStates, type Machine } from './contracts/machines';

export const sortKeys = ['name', 'state', 'driver', 'image', 'node', 'created', 'cpu', 'memory'] as const;
export type SortKey = (typeof sortKeys)[number];

/** The machine list's view: what the toolbar shows, kept in the URL so a filtered list can be shared. */
export interface MachineView {
  q: string;
  states: Machine['state'][];
  drivers: Machine['driver'][];
  tags: string[];
  sort: SortKey;
  desc: boolean;
  /** A small live picture of each running VM's screen beside its name. */
  screens: boolean;
}

export const defaultView: MachineView = { q: '', states: [], drivers: [], tags: [], sort: 'name', desc: false, screens: false };

const list = (v: string | null) => (v ? v.split(',').filter(Boolean) : []);

/** The view from URL search params; unknown values are dropped, never trusted. */
export function viewFromParams(p: URLSearchParams): MachineView {
  const sort = p.get('sort');
  return {
    q: (p.get('q') ?? '').slice(0, 100),
    states: list(p.get('state')).filter((s): s is Machine['state'] => (machineStates as readonly string[]).includes(s)),
    drivers: list(p.get('driver')).filter((d): d is Machine['driver'] => (driverKinds as readonly string[]).includes(d)),
    tags: list(p.get('tag'))
      .filter((t) => /^[a-z0-9][a-z0-9._-]{0,31}$/.test(t))
      .slice(0, 16),
    sort: (sortKeys as readonly string[]).includes(sort ?? '') ? (sort as SortKey) : 'name',
    desc: p.get('dir') === 'desc',
    screens: p.get('screens') === '1',
  };
}

/** Search params for a view, defaults left out (so the plain list has a plain URL). */
export function paramsFromView(v: MachineView): URLSearchParams {
  const p = new URLSearchParams();
  if (v.q) p.set('q', v.q);
  if (v.states.length) p.set('state', v.states.join(','));
  if (v.drivers.length) p.set('driver', v.drivers.join(','));
  if (v.tags.length) p.set('tag', v.tags.join(','));
  if (v.sort !== 'name') p.set('sort', v.sort);
  if (v.desc) p.set('dir', 'desc');
  if (v.screens) p.set('screens', '1');
  return p;
}

/**
 * Does a machine match the search text? Every word must match its name, image, driver, state
 * node or one of its tags; `tag:x`, `state:x`, `driver:x`, `image:x` and `node:x` words match that field only.
 */
export function matchesQuery(m: Machine, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((w) => {
    const [field, value] = w.includes(':') ? (w.split(':', 2) as [string, string]) : ['', w];
    switch (field) {
      case 'tag':
        return m.tags.some((t) => t.includes(value));
      case 'state':
        return m.state.startsWith(value);
      case 'driver':
        return m.driver.startsWith(value);
      case 'image':
        return m.image.includes(value);
      case 'node':
        return !!m.node?.name.startsWith(value);
      default:
        return m.name.includes(w) || m.image.includes(w) || m.driver === w || m.state === w || m.node?.name === w || m.tags.some((t) => t.includes(w));
    }
  });
}

/** Live figures a sort may use (the list's sparkline data): the last CPU share and memory per machine. */
export type LiveFigures = (id: string) => { cpuPct: number | null; memBytes: number | null } | undefined;

const stateOrder = Object.fromEntries(['running', 'starting', 'paused', 'stopping', 'creating', 'failed', 'stopped'].map((s, i) => [s, i]));

/** The machines a view shows, in its order (name breaks ties, so the order is stable). */
export function applyView(machines: Machine[], v: MachineView, live?: LiveFigures): Machine[] {
  const out = machines.filter(
    (m) =>
      (v.states.length === 0 || v.states.includes(m.state)) &&
      (v.drivers.length === 0 || v.drivers.includes(m.driver)) &&
      v.tags.every((t) => m.tags.includes(t)) &&
      matchesQuery(m, v.q),
  );
  const key = (m: Machine): number | string => {
    switch (v.sort) {
      case 'state':
        return stateOrder[m.state] ?? 99;
      case 'driver':
        return m.driver;
      case 'image':
        return m.image;
      case 'node':
        return m.node?.name ?? '';
      case 'created':
        return m.createdAt;
      case 'cpu':
        return live?.(m.id)?.cpuPct ?? -1;
      case 'memory':
        return live?.(m.id)?.memBytes ?? -1;
      default:
        return m.name;
    }
  };
  const dir = v.desc ? -1 : 1;
  return out
    .map((m) => ({ m, k: key(m) }))
    .sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.m.name < b.m.name ? -1 : a.m.name > b.m.name ? 1 : 0))
    .map((x) => x.m);
}

/** Every tag in use, by how many machines carry it (most first). */
export function tagCounts(machines: Machine[]): { tag: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const m of machines) for (const t of m.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag));
}
