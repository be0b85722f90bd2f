import type { Metadata } from 'next';
import { SharedRecording } from '@/components/console/shared-recording';

export const metadata: Metadata = { title: 'Shared recording', referrer: 'no-referrer' };

/** A recording link: one console recording and its timeline, for someone without an account. */
export default async function RecordingSharePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <SharedRecording token={token} />;
}
