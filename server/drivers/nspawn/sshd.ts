import type { Duplex } from 'node:stream';
import { spawnDuplex } from '../exec';
import { readHostKeys, SSHD_PREPARE_SCRIPT, writeAuthorizedKeys } from '../shared/sshd';
import type { MachineSpec, SshdAccess } from '../types';
import { execIn, initOf, PATH_IN_GUEST } from './inside';

/**
 * A container's sshd in inetd mode (`sshd -i`, one connection on its stdin and stdout) in the
 * container's namespaces: it works on every network, a private one included (which has no port a
 * host could reach), and needs no ssh.service running. What the client speaks is the same SSH.
 */
export const nspawnSshd: SshdAccess = {
  user: 'root',
  async connect(m: MachineSpec): Promise<Duplex> {
    const init = initOf(m);
    if (!init) throw new Error('The container is not running.');
    const script = `${SSHD_PREPARE_SCRIPT}exec /usr/sbin/sshd -i -e`;
    return spawnDuplex(['nsenter', '-t', String(init), '-a', '--', '/usr/bin/env', '-i', PATH_IN_GUEST, 'HOME=/root', 'sh', '-c', script]);
  },
  hostKeys: (m) => readHostKeys(execIn, m, true),
  authorize: (m, keys) => writeAuthorizedKeys(execIn, m, keys, true),
};
