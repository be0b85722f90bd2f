import type { Metadata } from 'next';
import { Overview } from '@/components/overview/overview';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Overview' };

export default function OverviewPage() {
  return (
    <>
      <PageHeader title="Overview" description="This host's capacity and what uses it, your machines by state, and what ran lately." />
      <Overview />
    </>
  );
}
