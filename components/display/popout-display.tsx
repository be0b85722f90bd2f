'use client';

import { useEffect } from 'react';
import { ID_PATTERN } from '@/lib/contracts/common';
import { DisplayTab } from '@/components/display/display-tab';

/** The pop-out window: the whole window is the screen. */
export function PopoutDisplay({ machine, title }: { machine?: string; title?: string }) {
  const name = (title ?? 'display').slice(0, 80);
  useEffect(() => {
    document.title = `${name} · Hangar`;
  }, [name]);
  if (!machine || !ID_PATTERN.test(machine))
    return <p className="p-8 text-sm text-red-600">This pop-out link is incomplete: open the display again from its machine page.</p>;
  return (
    <main className="flex h-screen flex-col p-2">
      <h1 className="sr-only">{name}</h1>
      <DisplayTab machine={{ id: machine, name }} live popout className="min-h-0 flex-1" />
    </main>
  );
}
