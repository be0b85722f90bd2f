import type { Metadata } from 'next';
import { AccountSettings } from '@/components/settings/account-settings';
import { ApiTokens } from '@/components/settings/api-tokens';
import { SshKeys } from '@/components/settings/ssh-keys';
import { ConsoleSettings } from '@/components/console/console-settings';
import { HostCapabilities } from '@/components/settings/host-capabilities';
import { ImageSettings } from '@/components/images/image-settings';
import { RegistrySettings } from '@/components/images/registry-settings';
import { PageHeader } from '@/components/shell/page-header';
import { RoleGate } from '@/components/shell/role-gate';
import { StepCacheSettings } from '@/components/steps/step-cache-settings';
import { UserAdmin } from '@/components/settings/user-admin';
import { UserLimits } from '@/components/settings/user-limits';
import { MyLimits } from '@/components/settings/my-limits';
import { SignInProviders } from '@/components/settings/sign-in-providers';
import { MetricsSettings } from '@/components/settings/metrics-settings';
import { WebhookSettings } from '@/components/webhooks/webhook-settings';
import { BackupSettings } from '@/components/backups/backup-settings';

export const metadata: Metadata = { title: 'Settings' };

export default function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        description="What this host can do, server settings, users, your account, SSH keys, tokens, backups, webhooks and metrics."
      />
      <div className="space-y-8">
        <RoleGate role="viewer">
          <HostCapabilities />
        </RoleGate>
        <UserAdmin />
        <RoleGate role="admin">
          <UserLimits />
          <SignInProviders />
        </RoleGate>
        <AccountSettings />
        <SshKeys />
        <MyLimits />
        <ApiTokens />
        <RoleGate role="viewer">
          <ConsoleSettings />
          <ImageSettings />
          <StepCacheSettings />
        </RoleGate>
        <RoleGate role="admin">
          <BackupSettings />
          <WebhookSettings />
          <MetricsSettings />
          <RegistrySettings />
        </RoleGate>
      </div>
    </>
  );
}
