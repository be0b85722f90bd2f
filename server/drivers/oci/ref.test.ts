import { describe, expect, it } from 'vitest';
import { sourceRef, parseImageRef } from './ref';

describe('image references', () => {
  it("follows docker's rules: registry by dot, colon or localhost; library/ on docker.io only; latest by default", () => {
    expect(parseImageRef('alpine').full).toBe('docker.io/library/alpine:latest');
    expect(parseImageRef('alpine:3.20').full).toBe('docker.io/library/alpine:3.20');
    expect(parseImageRef('docker://bitnami/redis:7').full).toBe('docker.io/bitnami/redis:7');
    expect(parseImageRef('localhost/x/y:1')).toMatchObject({ registry: 'localhost', repository: 'x/y', tag: '1' });
    expect(parseImageRef('docker://127.0.0.1:5000/test/busybox:base')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'test/busybox', tag: 'base' });
    // The default registry from Settings: no library/ there.
    expect(parseImageRef('busybox:base', 'registry.example.org:5000').full).toBe('registry.example.org:5000/busybox:base');
  });

  it('keeps a digest and drops the tag beside it (skopeo 1.9 refuses both)', () => {
    const d = `sha256:${'ab'.repeat(32)}`;
    const r = parseImageRef(`r.example/a/b:1.0@${d}`);
    expect(r).toMatchObject({ tag: null, digest: d, full: `r.example/a/b@${d}` });
    expect(sourceRef(r)).toBe(`docker://r.example/a/b@${d}`);
    expect(sourceRef(parseImageRef('r.example/a:1'), d)).toBe(`docker://r.example/a@${d}`);
  });

  it('refuses malformed refs with the reason', () => {
    for (const [bad, why] of [
      ['127.0.0.1:5000/Test/BusyBox:base', 'name component "Test"'],
      ['a/b@sha256:xyz', 'a digest is sha256:'],
      ['a:b:c', 'tag'],
      ['with space', 'spaces'],
      ['', 'empty'],
      ['a/../b', 'name component ".."'],
      [`x:${'t'.repeat(200)}`, 'tag'],
    ])
      expect(() => parseImageRef(bad), bad).toThrow(why);
  });
});
