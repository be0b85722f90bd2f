import type { Metadata } from 'next';
import { PageHeader } from '@/components/shell/page-header';
import { SnapshotTree } from '@/components/snapshots/snapshot-tree';
import { ForkLinksPanel } from '@/components/fork-links/fork-links-panel';

export const metadata: Metadata = { title: 'Snapshots' };

export default function SnapshotsPage() {
  return (
    <>
      <PageHeader
        title="Snapshots"
        description="Every checkpoint is a node in a tree: restore a machine to any node, or fork new machines that carry on from it."
      />
      <SnapshotTree />
      <div className="mt-6">
        <ForkLinksPanel />
      </div>
    </>
  );
}
