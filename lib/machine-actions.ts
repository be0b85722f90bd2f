import type { BulkAction, Machine } from './contracts/machines';

/** What can be done to a machine in each state: the machine page's buttons, the list's bulk bar, the command palette. */
export type MachineVerb = BulkAction | 'fork-now';

export const verbsByState: Record<Machine['state'], MachineVerb[]> = {
  creating: ['destroy'],
  stopped: ['start', 'checkpoint', 'destroy'],
  failed: ['start', 'destroy'],
  starting: ['force-stop', 'destroy'],
  running: ['checkpoint', 'fork-now', 'stop', 'force-stop', 'restart', 'pause', 'destroy'],
  paused: ['resume', 'checkpoint', 'force-stop', 'destroy'],
  stopping: ['force-stop'],
  // Its node is offline: nothing can reach it (an operation would answer 503).
  unknown: [],
};

export const verbLabels: Record<MachineVerb, string> = {
  start: 'Start',
  stop: 'Stop',
  'force-stop': 'Force stop',
  restart: 'Restart',
  pause: 'Pause',
  resume: 'Resume',
  destroy: 'Destroy',
  checkpoint: 'Checkpoint',
  'fork-now': 'Fork now',
};

export const appliesTo = (verb: MachineVerb, m: Pick<Machine, 'state'>): boolean => verbsByState[m.state].includes(verb);

/** Asked before they run: they lose work or the machine. */
export const dangerous = (verb: MachineVerb): boolean => verb === 'destroy' || verb === 'force-stop';
