import { describe, expect, it } from 'vitest';
import { parseSshTarget } from '@/lib/contracts/machines';
import { parseSteps, splitSteps } from './chain';

describe('steps for an existing machine (hangar build --on)', () => {
  it('takes steps without a base, checked as steps after one', () => {
    expect(parseSteps(['file', '/etc/x', 'hi', '+', 'exec', '--', 'cat', '/etc/x'])).toEqual([
      { step: 'file', args: expect.objectContaining({ path: '/etc/x', content: 'hi' }) as unknown },
      { step: 'exec', args: { argv: ['cat', '/etc/x'], timeoutS: 600 } },
    ]);
    // A base has nothing to start on an existing machine.
    expect(() => parseSteps(['busybox'])).toThrow(/Unknown step "busybox"|is a base/);
    expect(() => parseSteps(['os.debian'])).toThrow(/is a base: it can only start a chain/);
    expect(() => splitSteps(['exec', '--', 'true', '+'])).toThrow(/Empty step/);
  });
});

describe('user@host[:port]', () => {
  it('reads the user, the host (IPv6 in brackets) and the port, 22 by default', () => {
    expect(parseSshTarget('root@10.0.0.2')).toEqual({ user: 'root', host: '10.0.0.2', port: 22 });
    expect(parseSshTarget('deploy@example.org:2222')).toEqual({ user: 'deploy', host: 'example.org', port: 2222 });
    expect(parseSshTarget('root@[::1]:22')).toEqual({ user: 'root', host: '::1', port: 22 });
    for (const bad of ['10.0.0.2', 'root@', 'root@host:0', 'root@host:70000', 'root@host:22:1', 'root@-host', 'Root;x@host', 'root@host name'])
      expect(parseSshTarget(bad), bad).toBeNull();
  });
});
