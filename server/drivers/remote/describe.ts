import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import { no, noDisks, yes } from '../shared/describe';
import type { DriverRuntime, MachineFacts } from '../types';
import { remoteRuntime } from './runtime';

/** Why an adopted machine has no snapshots: everything that needs one says this. */
export const NOT_OURS = "not available: an adopted machine's disk is not Hangar's";

/**
 * Machines Hangar does not run, reached over SSH (`hangar adopt`): exec, an SSH console, the
 * system journal followed over SSH, steps run over exec. Nothing that needs its disk or its power.
 */
export function describeRemote(_host: HostInfo | null, runtime?: DriverRuntime): DriverDescription {
  const rt = runtime ? remoteRuntime(runtime) : null;
  const where = rt?.host ? ` (${rt.user}@${rt.host}${rt.port === 22 ? '' : `:${rt.port}`})` : '';
  const checkpointTitle = `Checkpoint ${NOT_OURS}: nothing can save or restore its state.`;
  return {
    words: {
      kind: `Adopted over SSH${where}`,
      creating: 'Logging in over SSH',
      starting: 'Adopted machines are not started by Hangar',
      consoleLog: 'System journal (over SSH)',
      memorySeries: 'in use',
      memoryLimit: 'Its RAM',
      memoryNote: null,
      networkNote: null,
    },
    consoles: {
      // journalctl -f (or tail -F of syslog) over SSH: read only.
      main: { kind: 'remote-log', label: 'Journal', short: 'journal' },
      shell: { kind: 'ssh-shell', label: 'SSH', short: 'SSH' },
      shellSubject: 'SSH',
    },
    checkpoint: {
      running: 'none',
      stopped: 'none',
      reason: `Checkpoint ${NOT_OURS}.`,
      label: 'Checkpoint',
      title: checkpointTitle,
      stoppedLabel: 'Checkpoint',
      stoppedTitle: checkpointTitle,
    },
    fork: no(`Fork ${NOT_OURS}.`),
    move: { ...no(`Moves ${NOT_OURS}.`), live: no(`Moves ${NOT_OURS}.`), running: 'restart' },
    power: no('Hangar does not run an adopted machine: start, stop and restart it where it lives (destroy only forgets it).'),
    create: no('An SSH machine is adopted, not made: hangar adopt NAME --ssh user@host[:port] --key FILE.'),
    adopt: yes,
    hotStandby: no(`Hot snapshots ${NOT_OURS}.`),
    archiveExport: no(`Archives ${NOT_OURS}.`),
    unitFile: no('Hangar does not run an adopted machine: it has no unit file of this host.'),
    files: yes,
    networks: [],
    portForwards: { available: false, reason: 'An adopted machine has its own network: Hangar forwards no ports to it.', protocols: [], networks: [] },
    sshd: no('Hangar does not manage its sshd: connect to it directly with the key it was adopted with.'),
    display: no('An adopted machine has no screen Hangar can show: use its SSH console.'),
    iso: no('An adopted machine has no CD-ROM drive Hangar controls.'),
    firmwares: [],
    disks: noDisks(`Extra disks ${NOT_OURS}.`),
    appContainers: no('A command (application container) needs a container driver: nspawn or podman.'),
    ociBoot: no('An adopted machine runs what it runs: OCI images boot as containers (nspawn).'),
    needsRootfs: false,
    imageKinds: [],
    limits: { cpus: false, memory: false, disk: false },
    needs: [],
    available: true,
    reason: null,
  };
}

export function remoteFacts(runtime: DriverRuntime): MachineFacts {
  const rt = remoteRuntime(runtime);
  return {
    accel: null,
    // The port is its own, not one Hangar forwards on this host's loopback.
    ssh: rt.user ? { port: null, user: rt.user } : null,
    network: null,
    address: rt.host ?? null,
    command: null,
  };
}
