import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MachineDetail } from '@/components/machines/machine-detail';

export async function generateMetadata({ params }: { params: Promise<{ ref: string }> }): Promise<Metadata> {
  return { title: decodeURIComponent((await params).ref) };
}

export default async function MachinePage({ params }: { params: Promise<{ ref: string }> }) {
  return (
    <Suspense>
      <MachineDetail machineRef={decodeURIComponent((await params).ref)} />
    </Suspense>
  );
}
