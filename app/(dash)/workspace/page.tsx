import type { Metadata } from 'next';
import { PageHeader } from '@/components/shell/page-header';
import { Workspace } from '@/components/console/workspace';

export const metadata: Metadata = { title: 'Workspace' };

export default function WorkspacePage() {
  return (
    <>
      <PageHeader
        title="Workspace"
        description="Consoles side by side, arranged as you like: the layout is saved for you. Mark consoles for broadcast typing to type into several at once."
      />
      <Workspace />
    </>
  );
}
