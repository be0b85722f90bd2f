import { describe, expect, it } from 'vitest';
import { checkResponse } from './response-validator';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const job = { id: 'job_aaaaaaaaaaaa', kind: 'k', title: 't', state: 'queued', progress: 0, message: '', error: null, result: null };
const fullJob = { ...job, ownerId: null, machineId: null, parentId: null, createdAt: 1, startedAt: null, finishedAt: null };
const envelope = { error: { code: 'conflict', message: 'busy' } };

describe('the integration suite response validator', () => {
  it('accepts documented answers', async () => {
    expect(await checkResponse('GET', '/api/jobs/job_aaaaaaaaaaaa', json(200, fullJob))).toBeNull();
    expect(await checkResponse('POST', '/api/machines/web-1/stop', json(409, envelope))).toBeNull();
    expect(await checkResponse('GET', '/api/jobs/job_aaaaaaaaaaaa', new Response(null, { status: 304 }))).toBeNull();
    expect(await checkResponse('GET', '/api/nope', json(404, { error: { code: 'not_found', message: 'No route' } }))).toBeNull();
    // A label several snapshots share: 409 listing them, on every route that resolves a snapshot ref.
    const shared = { error: { code: 'conflict', message: '2 snapshots are labelled "x"', issues: [{ path: 'snp_aaaaaaaaaaaa', message: 'label "x"' }] } };
    expect(await checkResponse('GET', '/api/snapshots/x', json(409, shared))).toBeNull();
  });

  it('refuses an undocumented status, a body off its schema, and the wrong media type', async () => {
    expect(await checkResponse('GET', '/api/health', json(409, envelope))).toMatch(/getHealth: status 409 is not documented/);
    expect(await checkResponse('GET', '/api/jobs/job_aaaaaaaaaaaa', json(200, job))).toMatch(/does not match its schema: ownerId/);
    expect(await checkResponse('POST', '/api/machines/web-1/stop', json(409, { message: 'busy' }))).toMatch(/error/);
    const tar = new Response('x', { status: 200, headers: { 'content-type': 'application/json' } });
    expect(await checkResponse('GET', '/api/snapshots/snp_aaaaaaaaaaaa/export', tar)).toMatch(/documented application\/x-tar/);
  });
});
