import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { putRegistryRow } from '@/db/repo/registries';
import { withTempStore } from '@/db/temp-store';
import { ociPaths, prepareStore } from '@/server/drivers/oci/store';
import { RegistryService } from './registries';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let store: Store;
withTempStore('registries', (s) => (store = s));
let dirs: string[] = [];
/** A node's oci dir, prepared as start-up prepares it. */
const node = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-reg-'));
  dirs.push(dir);
  const p = ociPaths(dir);
  prepareStore(p);
  return { p, svc: new RegistryService(p, store) };
};
const auths = (file: string) => (JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
beforeEach(() => (dirs = []));
afterEach(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('RegistryService: one set of registries for every node', () => {
  it("a login kept by one node reaches another's files when it pulls: credentials, CA, both 0600", async () => {
    const b = node();
    // As A's put leaves it once the registry has accepted the login.
    await putRegistryRow(store, { host: 'reg.example:5000', insecure: false, username: 'u', password: 'p', ca: CA, updatedAt: 1 });
    expect(await b.svc.list()).toEqual([{ host: 'reg.example:5000', insecure: false, username: 'u', hasPassword: true, hasCa: true }]);
    const access = await b.svc.access('reg.example:5000');
    expect(access).toEqual({ insecure: false, certDir: path.join(b.p.certs, 'reg.example_5000'), creds: true });
    expect(fs.readFileSync(path.join(access.certDir!, 'ca.crt'), 'utf8')).toBe(CA);
    expect(fs.statSync(path.join(access.certDir!, 'ca.crt')).mode & 0o777).toBe(0o600);
    expect(auths(b.p.auth)).toEqual({ 'reg.example:5000': { auth: Buffer.from('u:p').toString('base64') } });
    expect(fs.statSync(b.p.auth).mode & 0o777).toBe(0o600);
    // Podman's file for one call holds that registry alone.
    await putRegistryRow(store, { host: 'other.example', insecure: true, username: 'x', password: 'y', ca: null, updatedAt: 1 });
    const seen = await b.svc.withAuthFile('reg.example:5000', async (f) => auths(f));
    expect(Object.keys(seen)).toEqual(['reg.example:5000']);
    expect(await b.svc.access('nowhere.example')).toEqual({ insecure: false, certDir: null, creds: false });
  });

  it("a removal on one node takes the other's files with it: no credentials, no CA left", async () => {
    const a = node();
    const b = node();
    await putRegistryRow(store, { host: 'reg.example', insecure: false, username: 'u', password: 'p', ca: CA, updatedAt: 1 });
    await b.svc.access('reg.example');
    expect(fs.readdirSync(b.p.certs)).toEqual(['reg.example']);
    await a.svc.remove('reg.example');
    await expect(a.svc.remove('reg.example')).rejects.toThrow(/not found/i);
    await b.svc.access('reg.example');
    expect(fs.readdirSync(b.p.certs)).toEqual([]);
    expect(auths(b.p.auth)).toEqual({});
  });

  it('settings without credentials need no login; a CA that is not PEM and half a login are refused', async () => {
    const a = node();
    expect(await a.svc.put('plain.example:5000', { insecure: true })).toMatchObject({ insecure: true, hasCa: false, hasPassword: false });
    await expect(a.svc.put('x.example', { insecure: false, ca: 'not a cert' })).rejects.toThrow(/not a PEM/);
    await expect(a.svc.put('x.example', { insecure: false, username: 'u' })).rejects.toThrow(/both a username and a password/);
    await expect(a.svc.put('bad host!', { insecure: false })).rejects.toThrow();
    expect((await a.svc.list()).map((r) => r.host)).toEqual(['plain.example:5000']);
  });

  it("a node's registries.json from before is taken into the database once, never over the cluster's own", async () => {
    const a = node();
    await putRegistryRow(store, { host: 'kept.example', insecure: true, username: null, password: null, ca: null, updatedAt: 1 });
    fs.writeFileSync(
      a.p.registries,
      JSON.stringify({
        registries: {
          'old.example:5000': { insecure: false, username: 'u', password: 'p' },
          'kept.example': { insecure: false, username: 'v', password: 'w' },
          'bad host!': { insecure: true },
        },
      }),
    );
    fs.mkdirSync(path.join(a.p.certs, 'old.example_5000'));
    fs.writeFileSync(path.join(a.p.certs, 'old.example_5000', 'ca.crt'), CA);
    expect(await a.svc.adoptFiles()).toBe(1);
    expect(await a.svc.list()).toEqual([
      { host: 'kept.example', insecure: true, username: null, hasPassword: false, hasCa: false },
      { host: 'old.example:5000', insecure: false, username: 'u', hasPassword: true, hasCa: true },
    ]);
    // Its passwords are in the database now: the file goes.
    expect(fs.readdirSync(a.p.root).filter((f) => f.startsWith('registries.json'))).toEqual([]);
    expect(await a.svc.adoptFiles()).toBe(0);
  });
});
