import type { Metadata } from 'next';
import { ForkLinkOpen } from '@/components/fork-links/fork-link-open';

export const metadata: Metadata = { title: 'Your fork', referrer: 'no-referrer' };

/** A fork link: a private running fork and its console for whoever opens it, without an account. */
export default async function ForkLinkPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <ForkLinkOpen token={token} />;
}
