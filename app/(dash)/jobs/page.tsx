import type { Metadata } from 'next';
import { JobList } from '@/components/jobs/job-list';
import { DemoJobButton } from '@/components/jobs/demo-job-button';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Jobs' };

export default function JobsPage() {
  return (
    <>
      <PageHeader
        title="Jobs"
        description="Long operations (image builds, boots, checkpoints, forks, chain runs) with live progress and logs."
        actions={<DemoJobButton />}
      />
      <JobList />
    </>
  );
}
