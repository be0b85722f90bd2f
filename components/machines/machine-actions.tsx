'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import type { Machine } from '@/lib/contracts/machines';
import { verbLabels, verbRefusal, verbsByState, type MachineVerb } from '@/lib/machine-actions';
import { hasRole } from '@/lib/roles';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { runVerb, verbQuestion } from '@/components/machines/machine-verb';
import { ForkLinkButton } from '@/components/fork-links/fork-link-button';
import { MoveButton } from '@/components/machines/move-button';

/**
 * What a checkpoint of this machine saves, said on the button, as its driver describes it: live
 * (memory + devices + disk) for a running VM, the disk only for a stopped one, files for containers.
 */
export function checkpointHint(m: Machine): { label: string; title: string; disabled: boolean } {
  const c = m.capabilities.checkpoint;
  if (m.state === 'stopped') return { label: c.stoppedLabel, title: c.stoppedTitle, disabled: c.stopped === 'none' };
  return { label: c.label, title: c.title, disabled: c.running === 'none' };
}

export function MachineActions({ machine }: { machine: Machine }) {
  const toast = useToast();
  const confirm = useConfirm();
  const router = useRouter();
  // The role on this machine: a grant may let a viewer operate it.
  const access = useQuery(queries(api).access(machine.id)).data;
  const run = useMutation({
    mutationFn: (verb: MachineVerb) => runVerb(verb, machine.id),
    onSuccess: (job, verb) => {
      toast('info', `${job.title}: started`);
      if (verb === 'destroy') router.push('/machines');
    },
    onError: (err) => toast('error', err.message),
  });
  if (!access || !hasRole(access.role, 'operator')) return null;
  // A grant covers this machine's own actions; forking makes new machines (the global role), destroying needs the owner grant.
  const globalOp = hasRole(access.global, 'operator');
  const may = (verb: MachineVerb) => (verb === 'fork-now' ? globalOp : verb === 'destroy' ? globalOp || access.grant === 'owner' : true);
  const go = async (verb: MachineVerb) => {
    const question = verbQuestion(verb, machine);
    if (question && !(await confirm(question))) return;
    run.mutate(verb);
  };
  const hint = checkpointHint(machine);
  return (
    <div className="flex flex-wrap gap-2">
      {verbsByState[machine.state].filter(may).map((verb) => (
        <button
          key={verb}
          type="button"
          onClick={() => void go(verb)}
          // What its driver cannot do stays shown, greyed out, with the description's reason.
          disabled={run.isPending || verbRefusal(verb, machine) !== null}
          title={verb === 'checkpoint' || verb === 'fork-now' ? hint.title : (verbRefusal(verb, machine) ?? undefined)}
          className={`rounded-md px-3 py-1.5 text-sm font-medium disabled:opacity-60 ${
            verb === 'checkpoint' || verb === 'fork-now'
              ? 'bg-sky-700 text-white hover:bg-sky-600'
              : verb === 'destroy' || verb === 'force-stop'
                ? 'text-red-600 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950/40'
                : 'border border-zinc-300 bg-white hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800'
          }`}
        >
          {verb === 'checkpoint' ? hint.label : verbLabels[verb]}
        </button>
      ))}
      {globalOp && machine.state === 'running' && !hint.disabled && (
        <ForkLinkButton
          source={{ machine: machine.id }}
          what={`${machine.name}, as it is now`}
          className={`rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-zinc-50
            dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800`}
        />
      )}
      {/* The node picker lists the nodes, which admins see (an operator moves with hangar move). */}
      {hasRole(access.global, 'admin') && <MoveButton machine={machine} />}
    </div>
  );
}
