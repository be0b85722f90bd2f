'use client';

/** A secret the server shows once (an API token, a webhook's signing secret): copy it now, then it is gone. */
export function ShownOnce({ what, value, testId, onDone }: { what: string; value: string; testId: string; onDone: () => void }) {
  return (
    <div className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/40" role="alert">
      <p className="font-medium">Copy {what} now: it will not be shown again.</p>
      <code className="mt-2 block font-mono text-xs break-all select-all" data-testid={testId}>
        {value}
      </code>
      <button type="button" className="mt-2 text-xs underline" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
