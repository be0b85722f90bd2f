import type { Metadata } from 'next';
import { AuthGate } from '@/components/shell/auth-gate';
import { PopoutDisplay } from '@/components/display/popout-display';

export const metadata: Metadata = { title: 'Display' };

/** A machine's screen in a window of its own, on the session of the page that opened it. */
export default async function PopoutDisplayPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const one = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  return (
    <AuthGate>
      <PopoutDisplay machine={one('machine')} title={one('title')} />
    </AuthGate>
  );
}
