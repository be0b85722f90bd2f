'use client';

import { useQuery } from '@tanstack/react-query';
import { api } from '@/components/ui/api';
import { DisplayView } from '@/components/display/display-view';

/** The Display tab: asks the server whether the caller types or watches (it enforces that too), then shows the screen. */
export function DisplayTab(props: { machine: { id: string; name: string }; live: boolean; popout?: boolean; className?: string }) {
  const { machine, live, popout, className } = props;
  const info = useQuery({ queryKey: ['machines', machine.id, 'display', live], queryFn: () => api.machines.display(machine.id), enabled: live, retry: false });
  if (!live) return <p className="text-sm text-zinc-600 dark:text-zinc-400">The screen is shown while the machine runs.</p>;
  if (info.error) return <p className="text-sm text-red-600">{info.error.message}</p>;
  if (!info.data) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading…</p>;
  return <DisplayView machine={machine} readOnly={info.data.readOnly} popout={popout} className={className} />;
}
