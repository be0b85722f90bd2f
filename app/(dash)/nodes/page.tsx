import type { Metadata } from 'next';
import { NodeList } from '@/components/nodes/node-list';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Nodes' };

export default function NodesPage() {
  return (
    <>
      <PageHeader
        title="Nodes"
        description="The hosts this Hangar runs on: one Hangar server each, with its own data dir and drivers, all on one PostgreSQL."
      />
      <NodeList />
    </>
  );
}
