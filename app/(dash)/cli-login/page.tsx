import type { Metadata } from 'next';
import { Suspense } from 'react';
import { CliLoginApproval } from '@/components/auth/cli-login-approval';
import { PageHeader } from '@/components/shell/page-header';

export const metadata: Metadata = { title: 'Sign in the CLI' };

export default function CliLoginPage() {
  return (
    <div className="max-w-xl space-y-6">
      <PageHeader title="Sign in the Hangar CLI" description="hangar login --browser asked for an API token in your name." />
      <Suspense>
        <CliLoginApproval />
      </Suspense>
    </div>
  );
}
