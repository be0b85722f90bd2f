import type { Metadata } from 'next';
import { MachineConsole } from '@/components/console/machine-console';

export async function generateMetadata({ params }: { params: Promise<{ ref: string }> }): Promise<Metadata> {
  return { title: `${decodeURIComponent((await params).ref)} console` };
}

/** /machines/NAME/console: a link straight to a machine's console, to send a teammate. */
export default async function MachineConsolePage({ params }: { params: Promise<{ ref: string }> }) {
  return <MachineConsole machineRef={decodeURIComponent((await params).ref)} />;
}
