import type { Metadata } from 'next';
import { SharedConsole } from '@/components/console/shared-console';

export const metadata: Metadata = { title: 'Shared console', referrer: 'no-referrer' };

/** A share link: a machine's console for someone without an account. */
export default async function SharePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <SharedConsole token={token} />;
}
