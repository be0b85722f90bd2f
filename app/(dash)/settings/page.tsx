import type { Metadata } from 'next';
import { ApiTokens } from '@/components/api-tokens';
import { ConsoleSettings } from '@/components/console-settings';
import { HostCapabilities } from '@/components/host-capabilities';
import { ImageSettings } from '@/components/image-settings';
import { PageHeader } from '@/components/page-header';
import { StepCacheSettings } from '@/components/step-cache-settings';

export const metadata: Metadata = { title: 'Settings' };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="What this host can do, server settings, and your API tokens." />
      <div className="space-y-8">
        <HostCapabilities />
        <ConsoleSettings />
        <ImageSettings />
        <StepCacheSettings />
        <ApiTokens />
      </div>
    </>
  );
}
