import { describe, expect, it } from 'vitest';
import type { Machine } from './contracts/machines';
import { applyView, defaultView, matchesQuery, paramsFromView, tagCounts, viewFromParams } from './machine-filter';

/** A machine with the fields a test cares about; the rest defaulted. */
function machine(p: Partial<Machine> & { name: string }): Machine {
  return {
    id: `mch_${p.name.replace(/-/g, '')}aaaaaaaaaa`,
    driver: 'qemu',
    image: 'busybox',
    state: 'stopped',
    stateReason: null,
    cpus: 1,
    memoryMib: 256,
    diskGib: 2,
    ports: [],
    ownerId: null,
    snapshotId: null,
    accel: null,
    ssh: null,
    network: null,
    address: null,
    command: null,
    cdrom: null,
    firmware: null,
    recordConsole: false,
    tags: [],
    createdAt: 0,
    updatedAt: 0,
    // What the driver can do does not matter to filtering.
    node: null,
    capabilities: {} as Machine['capabilities'],
    ...p,
  };
}

const fleet = [
  machine({ name: 'web-1', state: 'running', tags: ['web', 'prod'], createdAt: 3 }),
  machine({ name: 'web-2', state: 'stopped', tags: ['web'], createdAt: 1 }),
  machine({ name: 'db-1', state: 'running', driver: 'nspawn', image: 'debian-12', tags: ['db', 'prod'], createdAt: 2 }),
  machine({ name: 'scratch', state: 'failed', driver: 'podman', image: 'debian-12' }),
];

describe('machine list view', () => {
  it('reads the view from the URL, dropping what it does not know, and writes back only what differs from the default', () => {
    const v = viewFromParams(new URLSearchParams('q=web&state=running,bogus&driver=qemu,xen&tag=prod,Bad%20Tag&sort=cpu&dir=desc&screens=1'));
    expect(v).toEqual({ q: 'web', states: ['running'], drivers: ['qemu'], tags: ['prod'], sort: 'cpu', desc: true, screens: true });
    expect(paramsFromView(v).toString()).toBe('q=web&state=running&driver=qemu&tag=prod&sort=cpu&dir=desc&screens=1');
    expect(viewFromParams(new URLSearchParams('screens=yes')).screens).toBe(false);
    expect(viewFromParams(new URLSearchParams('sort=;drop table'))).toEqual(defaultView);
    expect(paramsFromView(defaultView).toString()).toBe('');
  });

  it('matches words against name, image, tags and state, and field:value words against that field only', () => {
    const [web1, , db1, scratch] = fleet;
    expect(matchesQuery(web1, 'web')).toBe(true);
    expect(matchesQuery(db1, 'prod')).toBe(true);
    expect(matchesQuery(db1, 'tag:prod image:debian')).toBe(true);
    expect(matchesQuery(web1, 'tag:db')).toBe(false);
    expect(matchesQuery(scratch, 'state:fail')).toBe(true);
    expect(matchesQuery(scratch, 'driver:qemu')).toBe(false);
    expect(matchesQuery(web1, '  ')).toBe(true);
  });

  it('filters by state, driver and every tag, and sorts stably with the name breaking ties', () => {
    expect(applyView(fleet, { ...defaultView, tags: ['prod'] }).map((m) => m.name)).toEqual(['db-1', 'web-1']);
    expect(applyView(fleet, { ...defaultView, tags: ['prod', 'web'] }).map((m) => m.name)).toEqual(['web-1']);
    expect(applyView(fleet, { ...defaultView, states: ['running'], drivers: ['nspawn'] }).map((m) => m.name)).toEqual(['db-1']);
    expect(applyView(fleet, { ...defaultView, sort: 'created', desc: true }).map((m) => m.name)).toEqual(['web-1', 'db-1', 'web-2', 'scratch']);
    // Running first, then the rest; equal states by name.
    expect(applyView(fleet, { ...defaultView, sort: 'state' }).map((m) => m.name)).toEqual(['db-1', 'web-1', 'scratch', 'web-2']);
  });

  it('sorts by live CPU, machines without figures last', () => {
    const live = (id: string) => (id === fleet[0].id ? { cpuPct: 5, memBytes: 1 } : id === fleet[2].id ? { cpuPct: 50, memBytes: 2 } : undefined);
    expect(applyView(fleet, { ...defaultView, sort: 'cpu', desc: true }, live).map((m) => m.name)).toEqual(['db-1', 'web-1', 'scratch', 'web-2']);
  });

  it('counts tags, most used first', () => {
    expect(tagCounts(fleet)).toEqual([
      { tag: 'prod', count: 2 },
      { tag: 'web', count: 2 },
      { tag: 'db', count: 1 },
    ]);
  });
});

describe('the node of a machine (a cluster)', () => {
  const onB = machine({ name: 'far', node: { id: 'nod_b', name: 'b-east' } });
  const onA = machine({ name: 'near', node: { id: 'nod_a', name: 'a-west' } });

  it('`node:x` matches the start of its node name; a bare word its whole name', () => {
    expect(matchesQuery(onB, 'node:b')).toBe(true);
    expect(matchesQuery(onA, 'node:b')).toBe(false);
    expect(matchesQuery(onB, 'b-east')).toBe(true);
    expect(matchesQuery(fleet[0], 'node:b')).toBe(false);
  });

  it('sorts by node name', () => {
    expect(applyView([onB, onA], { ...defaultView, sort: 'node' }).map((m) => m.name)).toEqual(['near', 'far']);
    expect(viewFromParams(new URLSearchParams('sort=node')).sort).toBe('node');
  });
});
