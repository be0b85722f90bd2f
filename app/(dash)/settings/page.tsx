import type { Metadata } from 'next';
import { AccountSettings } from '@/components/account-settings';
import { ApiTokens } from '@/components/api-tokens';
import { ConsoleSettings } from '@/components/console-settings';
import { HostCapabilities } from '@/components/host-capabilities';
import { ImageSettings } from '@/components/image-settings';
import { PageHeader } from '@/components/page-header';
import { RoleGate } from '@/components/role-gate';
import { StepCacheSettings } from '@/components/step-cache-settings';
import { UserAdmin } from '@/components/user-admin';

export const metadata: Metadata = { title: 'Settings' };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="What this host can do, server settings, users, your account and API tokens." />
      <div className="space-y-8">
        <RoleGate role="viewer">
          <HostCapabilities />
        </RoleGate>
        <UserAdmin />
        <AccountSettings />
        <ApiTokens />
        <RoleGate role="viewer">
          <ConsoleSettings />
          <ImageSettings />
          <StepCacheSettings />
        </RoleGate>
      </div>
    </>
  );
}
