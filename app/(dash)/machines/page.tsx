import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MachineList } from '@/components/machines/machine-list';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Machines' };

export default function MachinesPage() {
  return (
    <>
      <PageHeader title="Machines" description="QEMU virtual machines and containers. Each one can be checkpointed, restored and forked." />
      {/* The list reads its filters from the URL: rendered in the browser only. */}
      <Suspense fallback={<p className="text-sm text-zinc-600 dark:text-zinc-400">Loading machines…</p>}>
        <MachineList />
      </Suspense>
    </>
  );
}
