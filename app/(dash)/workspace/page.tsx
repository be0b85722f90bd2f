import type { Metadata } from 'next';
import { PageHeader } from '@/components/page-header';
import { Workspace } from '@/components/workspace';

export const metadata: Metadata = { title: 'Workspace' };

export default function WorkspacePage() {
  return (
    <>
      <PageHeader title="Workspace" description="Consoles side by side, arranged as you like: the layout is saved for you. Mark consoles for broadcast typing to type into several at once." />
      <Workspace />
    </>
  );
}
