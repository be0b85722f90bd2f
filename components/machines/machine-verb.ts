'use client';

import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import { dangerous, verbLabels, type MachineVerb } from '@/lib/machine-actions';
import { api } from '@/components/ui/api';
import type { ConfirmOptions } from '@/components/ui/confirm-dialog';

/** Start what a verb does to one machine (the machine page's buttons, the command palette): its job. */
export function runVerb(verb: MachineVerb, machineId: string): Promise<Job> {
  switch (verb) {
    case 'destroy':
      return api.machines.destroy(machineId);
    case 'force-stop':
      return api.machines.act(machineId, 'stop', { force: true });
    case 'checkpoint':
      return api.snapshots.checkpoint(machineId);
    case 'fork-now':
      return api.snapshots.forkNow(machineId, { count: 1 });
    default:
      return api.machines.act(machineId, verb);
  }
}

/** The question asked before a verb that loses work or the machine; null for the others. */
export function verbQuestion(verb: MachineVerb, m: Pick<Machine, 'name' | 'capabilities'>): ConfirmOptions | null {
  if (!dangerous(verb)) return null;
  return {
    title: `${verbLabels[verb]} ${m.name}?`,
    body:
      verb !== 'destroy'
        ? 'Like pulling the plug: what the guest has not written to disk is lost.'
        : // A machine its driver adopted is only forgotten: Hangar never touches it.
          m.capabilities.adopt.available
          ? 'Hangar forgets it: its record, stored key and journal log go; the machine itself is not touched.'
          : 'Its disk and console log are deleted; snapshots taken of it stay.',
    confirmLabel: verbLabels[verb],
    danger: true,
  };
}
