'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { createApiClient } from '@/lib/api-client';
import { formatDuration } from '@/lib/format';
import { RecordingTimeline } from './recording-timeline';
import { SharedPageHeader } from './shared-page-header';

/** The page a recording link opens: that one recording with its markers, read-only, nothing else of Hangar. */
export function SharedRecording({ token }: { token: string }) {
  const client = useMemo(() => createApiClient({ baseUrl: '', share: token }), [token]);
  const info = useQuery({ queryKey: ['recording-share', token], queryFn: () => client.shares.recordingInfo(), retry: false });
  if (info.isPending) return <p className="p-6 text-sm text-zinc-500 dark:text-zinc-400">Opening the shared recording…</p>;
  if (info.error) {
    return (
      <main className="mx-auto max-w-lg p-8 text-center">
        <h1 className="text-lg font-semibold">This link does not open anything</h1>
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
          It has expired or was revoked, or its recording was deleted. Ask whoever sent it for a new one.
        </p>
      </main>
    );
  }
  const s = info.data;
  return (
    <main className="flex min-h-screen flex-col gap-3 p-4">
      <SharedPageHeader
        title={
          <>
            {s.machine.name} <span className="text-zinc-500 dark:text-zinc-400">· {s.recording.console} console</span>
          </>
        }
        label={s.label}
        expiresAt={s.expiresAt}
      >
        recorded {new Date(s.recording.startedAt).toLocaleString()} · {formatDuration(s.recording.durationS * 1000)} · read-only recording
      </SharedPageHeader>
      <RecordingTimeline machineId="" recording={s.recording} canRestore={false} share={token} />
    </main>
  );
}
