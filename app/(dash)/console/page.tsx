import type { Metadata } from 'next';
import { HostConsole } from '@/components/console/host-console';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Host console' };

export default function ConsolePage() {
  return (
    <>
      <PageHeader
        title="Host console"
        description={
          'A shell on the Hangar host. It keeps running when you reload or lose the connection; reopening this ' + 'page returns to it with its scrollback.'
        }
      />
      <HostConsole />
    </>
  );
}
