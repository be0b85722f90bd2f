'use client';

import { useEffect } from 'react';
import { consoleSessionIdSchema, consoleTargetSchema } from '@/lib/contracts/console';
import { Console } from '@/components/console/console';

/** The pop-out window: the whole window is the terminal; closing or reloading it only detaches. */
export function PopoutConsole({ sid, machine, channel, kind, title }: { sid?: string; machine?: string; channel?: string; kind?: string; title?: string }) {
  const target = consoleTargetSchema.safeParse(kind === 'host-shell' ? { kind } : { kind: 'machine', machineId: machine, channel });
  const session = consoleSessionIdSchema.safeParse(sid);
  const name = (title ?? 'console').slice(0, 80);
  useEffect(() => {
    document.title = `${name} · Hangar`;
  }, [name]);
  if (!target.success || !session.success)
    return <p className="p-8 text-sm text-red-600">This pop-out link is incomplete: open the console again from its machine page.</p>;
  return (
    <main className="flex h-screen flex-col p-2">
      <h1 className="sr-only">{name}</h1>
      <Console target={target.data} sessionKey={`popout-${session.data}`} sessionId={session.data} title={name} popout className="min-h-0 flex-1" />
    </main>
  );
}
