import type { Metadata } from 'next';
import { PageHeader } from '@/components/shell/page-header';
import { StepTree } from '@/components/steps/step-tree';

export const metadata: Metadata = { title: 'Steps' };

export default function StepsPage() {
  return (
    <>
      <PageHeader
        title="Steps"
        description="Machines built from chained steps. Each step's result is cached as a snapshot, so the second run starts in about a second."
      />
      <StepTree />
    </>
  );
}
