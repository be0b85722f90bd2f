import type { Metadata } from 'next';
import { AuthGate } from '@/components/shell/auth-gate';
import { PopoutConsole } from '@/components/console/popout-console';

export const metadata: Metadata = { title: 'Console' };

/** A console in a window of its own, on the session of the page that opened it. */
export default async function PopoutPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const one = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
  return (
    <AuthGate>
      <PopoutConsole sid={one('sid')} machine={one('machine')} channel={one('channel')} kind={one('kind')} title={one('title')} />
    </AuthGate>
  );
}
