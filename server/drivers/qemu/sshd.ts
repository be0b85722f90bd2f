import net from 'node:net';
import type { Duplex } from 'node:stream';
import { readHostKeys, writeAuthorizedKeys } from '../shared/sshd';
import type { MachineDriver, MachineSpec, SshdAccess } from '../types';
import { sshTarget } from './runtime';

/** A VM's sshd: its port 22, forwarded to a loopback port of the host (hostfwd). */
export function qemuSshd(driver: Pick<MachineDriver, 'exec'>): SshdAccess {
  const exec = driver.exec.bind(driver);
  return {
    user: 'root',
    connect(m: MachineSpec): Promise<Duplex> {
      const t = sshTarget(m);
      if (!t) return Promise.reject(new Error('This machine has no SSH server running.'));
      return new Promise((resolve, reject) => {
        // Half-open: the client's EOF (a text frame "eof") is passed on as a FIN while sshd's answer still comes back.
        const s = net.connect({ host: '127.0.0.1', port: t.port, noDelay: true, allowHalfOpen: true });
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    },
    hostKeys: (m) => readHostKeys(exec, m),
    authorize: (m, keys) => writeAuthorizedKeys(exec, m, keys),
  };
}
