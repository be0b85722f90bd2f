'use client';

import { useQuery } from '@tanstack/react-query';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';

export function JobLog({ jobId }: { jobId: string }) {
  const logs = useQuery(queries(api).jobLogs(jobId));
  return (
    <pre tabIndex={0} className="mt-3 max-h-64 overflow-auto rounded-md bg-zinc-950 p-3 font-mono text-xs leading-5 text-zinc-200" aria-label="Job log">
      {logs.isPending
        ? 'Loading log…'
        : logs.error
          ? `Could not load the log: ${logs.error.message}`
          : logs.data.length === 0
            ? '(no output yet)'
            : logs.data.map((l) => l.line).join('\n')}
    </pre>
  );
}
