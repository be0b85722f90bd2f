import type { ReactNode } from 'react';
import { AuthGate } from '@/components/auth-gate';
import { Sidebar } from '@/components/sidebar';
import { EventsBridge } from '@/components/events-bridge';

export default function DashLayout({ children }: { children: ReactNode }) {
  return (
    <AuthGate>
      <EventsBridge />
      <div className="flex min-h-full flex-col md:flex-row">
        <Sidebar />
        <main className="min-w-0 flex-1 px-4 py-6 md:px-8">{children}</main>
      </div>
    </AuthGate>
  );
}
