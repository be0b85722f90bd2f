import type { ReactNode } from 'react';
import { AuthGate } from '@/components/shell/auth-gate';
import { Sidebar } from '@/components/shell/sidebar';
import { EventsBridge } from '@/components/shell/events-bridge';
import { GlobalKeys } from '@/components/shell/global-keys';
import { InsecureBanner } from '@/components/shell/insecure-banner';

export default function DashLayout({ children }: { children: ReactNode }) {
  return (
    <AuthGate>
      <EventsBridge />
      <GlobalKeys />
      <InsecureBanner />
      <div className="flex min-h-full flex-col md:flex-row">
        <Sidebar />
        <main className="min-w-0 flex-1 px-4 py-6 md:px-8">{children}</main>
      </div>
    </AuthGate>
  );
}
