import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Core } from '@/server/core/hangar';
import { createApi, routeGroups } from './app';
import { responseRules } from './responses';
import { ownerRule } from './route';

const specs = routeGroups.flat();

describe('the route table', () => {
  it('says which node answers every route on a machine, a snapshot or a job (a cluster forwards by it)', () => {
    const owned = specs.filter((s) => /^\/(machines\/\{ref\}|snapshots\/\{|jobs\/\{|runs\/\{)/.test(s.path));
    expect(owned.length).toBeGreaterThan(40);
    for (const s of owned) expect(ownerRule(s), `${s.method} ${s.path}`).toBeDefined();
    // Snapshot and job routes say it themselves (only /machines/{ref} has a default: the machine's node).
    for (const s of owned.filter((x) => !x.path.startsWith('/machines/'))) expect(s.owner, `${s.method} ${s.path}`).toBeDefined();
    const rule = (m: string, p: string) => ownerRule(specs.find((s) => s.method === m && s.path === p)!);
    expect(rule('post', '/machines/{ref}/exec')).toBe('machine');
    expect(rule('get', '/machines/{ref}/logs')).toBe('machine');
    expect(rule('delete', '/machines/{ref}')).toBe('machine');
    expect(rule('get', '/machines/{ref}')).toBe('any');
    expect(rule('post', '/jobs/{id}/cancel')).toEqual({ job: 'id' });
  });

  it('names every operation once, in camelCase (the operationId SDK generators name methods from)', () => {
    const names = specs.map((s) => s.name);
    for (const n of names) expect(n).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('pages every list: a response with items is a list route, answering { items, next }', () => {
    for (const s of specs) {
      const shape = s.response instanceof z.ZodObject ? (s.response.shape as Record<string, z.ZodType>) : {};
      // The sparklines feed is one sample set per machine for the list page, not a list to page through.
      if (!('items' in shape) || s.name === 'listMachineStats') continue;
      expect(s.list, `${s.name} answers items: it must page`).toBeDefined();
      expect('next' in shape, `${s.name}: next`).toBe(true);
    }
  });

  it('documents the answers the helper gives: 304 on GETs, 401 unless public, 403 on changes, 404 on resources, 413 on bodies', () => {
    for (const s of specs) {
      const statuses = [...responseRules(s).keys()];
      if (s.method === 'get' && !s.produces) expect(statuses, s.name).toContain(304);
      if (s.access !== 'public') expect(statuses, s.name).toContain(401);
      if (s.method !== 'get') expect(statuses, s.name).toEqual(expect.arrayContaining([403, 413]));
      if (s.path.includes('{')) expect(statuses, s.name).toContain(404);
      if (s.params || s.query || s.body || s.list) expect(statuses, s.name).toContain(400);
    }
  });

  it('publishes servers, a license and the media types files and streams really have', async () => {
    const { app } = createApi({ version: '0.0.0-test' } as Core);
    const doc = (await (await app.request('/api/openapi.json')).json()) as {
      servers: unknown[];
      info: { license: { identifier: string } };
      paths: Record<string, Record<string, { operationId: string; requestBody?: { content: object }; responses: Record<string, { content?: object }> }>>;
    };
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.info.license.identifier).toBe('MIT');
    const op = (p: string, m: string) => doc.paths[`/api${p}`][m];
    expect(Object.keys(op('/snapshots/{ref}/export', 'get').responses['200'].content!)).toEqual(['application/x-tar']);
    expect(Object.keys(op('/snapshots/import', 'post').requestBody!.content)).toEqual(['application/x-tar']);
    expect(Object.keys(op('/probes/packages', 'post').requestBody!.content)).toEqual(['application/vnd.debian.binary-package']);
    expect(Object.keys(op('/audit/export', 'get').responses['200'].content!)).toEqual(['application/x-ndjson']);
    expect(Object.keys(op('/machines/{ref}/recordings/{id}', 'get').responses['200'].content!)).toEqual(['application/x-asciicast']);
    expect(Object.keys(op('/auth/login', 'post').responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    // A snapshot ref that is a label several snapshots share answers 409, on every verb that resolves one.
    for (const [p, ms] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/snapshots/{ref}')))
      for (const [m, o] of Object.entries(ms)) expect(Object.keys(o.responses), `${m} ${p}`).toEqual(expect.arrayContaining(['400', '404', '409']));
    for (const ops of Object.values(doc.paths))
      for (const o of Object.values(ops)) {
        expect(o.operationId).toBeTruthy();
        for (const [status, r] of Object.entries(o.responses)) if (status.startsWith('2')) expect(r.content, `${o.operationId} ${status}`).toBeDefined();
      }
  });
});
