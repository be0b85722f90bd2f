import type { Metadata } from 'next';
import { EmptyState } from '@/components/empty-state';
import { PageHeader } from '@/components/page-header';

export const metadata: Metadata = { title: 'Snapshots' };

export default function SnapshotsPage() {
  return (
    <>
      <PageHeader title="Snapshots" description="Every checkpoint is a node in a tree: restore a machine to any node, or fork new machines from it." />
      <EmptyState icon="snapshots" title="No snapshots yet">
        <p>A checkpoint saves a running machine&apos;s memory, devices and disk in one click; restore goes back to it, fork starts copies that carry on from the same instant.</p>
        <p>Snapshots appear here once there are machines to checkpoint.</p>
      </EmptyState>
    </>
  );
}
