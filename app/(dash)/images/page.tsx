import type { Metadata } from 'next';
import { EmptyState } from '@/components/empty-state';
import { PageHeader } from '@/components/page-header';

export const metadata: Metadata = { title: 'Images' };

export default function ImagesPage() {
  return (
    <>
      <PageHeader title="Images" description="Base systems that machines start from, built here from Debian's archive and cached under the data dir." />
      <EmptyState icon="images" title="No images yet">
        <p>
          Images are built here from Debian&apos;s archive: <strong>busybox</strong> (boots in seconds, good for trying things) and <strong>debian-12</strong> (systemd and SSH). Builds run as jobs, with progress and logs on the Jobs page.
        </p>
        <p>Image builds arrive with the QEMU driver.</p>
      </EmptyState>
    </>
  );
}
