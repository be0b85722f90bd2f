import type { Metadata } from 'next';
import { ImageList } from '@/components/images/image-list';
import { IsoLibrary } from '@/components/images/iso-library';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Images' };

export default function ImagesPage() {
  return (
    <>
      <PageHeader
        title="Images"
        description={
          "Base systems that machines start from: built here from Debian's archive, pulled from OCI registries, " +
          'or imported from root filesystem tarballs; kept under the data dir.'
        }
      />
      <ImageList />
      <div className="mt-8">
        <IsoLibrary />
      </div>
    </>
  );
}
