import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateIdentity, ReplayGuard, saveNodeInfo, signForward, verifyForward } from './identity';

const fields = { node: 'nod_a', method: 'GET', path: '/api/internal/ping?challenge=x', ts: 1_000_000, nonce: 'n1', principal: '' };

describe('node identity', () => {
  it('makes the key pair once (mode 0600) and keeps it and node.json across loads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-id-'));
    const a = loadOrCreateIdentity(dir);
    expect(fs.statSync(path.join(dir, 'cluster', 'node.key')).mode & 0o777).toBe(0o600);
    expect(a.info).toBeNull();
    saveNodeInfo(a, { id: 'nod_a', name: 'a', clusterId: 'cls_x', founder: true });
    const b = loadOrCreateIdentity(dir);
    expect(b.publicKeyPem).toBe(a.publicKeyPem);
    expect(b.info).toEqual({ id: 'nod_a', name: 'a', clusterId: 'cls_x', founder: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('verifies its own signature, and refuses a tampered path, method, principal or another key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-id-'));
    const a = loadOrCreateIdentity(path.join(dir, 'a'));
    const other = loadOrCreateIdentity(path.join(dir, 'b'));
    const sig = signForward(a.key, fields);
    expect(verifyForward(a.publicKeyPem, fields, sig)).toBe(true);
    expect(verifyForward(a.publicKeyPem, { ...fields, path: '/api/internal/ping?challenge=y' }, sig)).toBe(false);
    expect(verifyForward(a.publicKeyPem, { ...fields, method: 'POST' }, sig)).toBe(false);
    expect(verifyForward(a.publicKeyPem, { ...fields, principal: '{"role":"admin"}' }, sig)).toBe(false);
    expect(verifyForward(other.publicKeyPem, fields, sig)).toBe(false);
    expect(verifyForward(a.publicKeyPem, fields, 'garbage')).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an old timestamp and a replayed nonce', () => {
    let now = 1_000_000;
    const g = new ReplayGuard(() => now);
    expect(g.check(now - 31_000, 'old')).toMatch(/too old/);
    expect(g.check(now, 'n1')).toBeNull();
    expect(g.check(now, 'n1')).toMatch(/already used/);
    now += 61_000;
    // Past the window the nonce is forgotten, but its timestamp is then too old anyway.
    expect(g.check(now - 61_000, 'n1')).toMatch(/too old/);
  });
});
