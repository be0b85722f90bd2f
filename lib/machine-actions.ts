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

/** Start, stop, restart, pause and resume: what a machine's power takes (an adopted machine's is its own). */
export const powerVerbs: readonly MachineVerb[] = ['start', 'stop', 'force-stop', 'restart', 'pause', 'resume'];

/**
 * Why its driver cannot do this to the machine (from its description), or null when it can:
 * power verbs need `power`, checkpoints and forks now a checkpoint kind for its state.
 */
export function verbRefusal(verb: MachineVerb, m: Pick<Machine, 'state' | 'capabilities'>): string | null {
  const c = m.capabilities;
  if (powerVerbs.includes(verb)) return c.power.available ? null : (c.power.reason ?? 'its driver does not run it');
  if (verb === 'checkpoint' || verb === 'fork-now') {
    const kind = m.state === 'stopped' ? c.checkpoint.stopped : c.checkpoint.running;
    return kind === 'none' ? (c.checkpoint.reason ?? 'its driver cannot checkpoint it') : null;
  }
  return null;
}

export const appliesTo = (verb: MachineVerb, m: Pick<Machine, 'state' | 'capabilities'>): boolean =>
  verbsByState[m.state].includes(verb) && verbRefusal(verb, m) === null;

/** Asked before they run: they lose work or the machine. */
export const dangerous = (verb: MachineVerb): boolean => verb === 'destroy' || verb === 'force-stop';
