import type { Metadata } from 'next';
import { Cmd, EmptyState } from '@/components/empty-state';
import { PageHeader } from '@/components/page-header';

export const metadata: Metadata = { title: 'Steps' };

export default function StepsPage() {
  return (
    <>
      <PageHeader title="Steps" description="Machines built from chained steps. Each step's result is cached as a snapshot, so the second run starts in about a second." />
      <EmptyState icon="steps" title="No cached steps yet">
        <p>A chain such as <Cmd>debian-12 + apt nginx + exec -- nginx -v</Cmd> builds a machine step by step; each result lands here as a node you can start a machine from.</p>
        <p>Chains need machines, so this tree starts growing once the machine drivers are in.</p>
      </EmptyState>
    </>
  );
}
