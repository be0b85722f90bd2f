import type { Metadata } from 'next';
import { MachineList } from '@/components/machine-list';
import { PageHeader } from '@/components/page-header';

export const metadata: Metadata = { title: 'Machines' };

export default function MachinesPage() {
  return (
    <>
      <PageHeader title="Machines" description="QEMU virtual machines and containers. Each one can be checkpointed, restored and forked." />
      <MachineList />
    </>
  );
}
