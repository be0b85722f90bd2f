'use client';

import { useToast } from '@/components/shell/toasts';

/**
 * A link the server shows once (a share, recording or fork link): send it now, Copy, Done.
 * `inline` keeps the link on one line beside the buttons (panels); `stacked` wraps it whole above
 * them (a narrow dialog, where the end of the token would be cut off).
 */
export function OneTimeLink({
  link,
  testId,
  note,
  onDone,
  layout = 'inline',
  className = 'mt-3',
}: {
  link: string;
  testId: string;
  /** Said after "it is shown once.": what the link opens. */
  note?: string;
  onDone: () => void;
  layout?: 'inline' | 'stacked';
  className?: string;
}) {
  const toast = useToast();
  const copy = () => void navigator.clipboard?.writeText(link).then(() => toast('info', 'Link copied.'));
  const stacked = layout === 'stacked';
  return (
    <div role="alert" className={`${className} rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/40`}>
      <p className="font-medium">Send this link now: it is shown once.{note ? ` ${note}` : ''}</p>
      {stacked && (
        <code data-testid={testId} className="mt-2 block font-mono text-xs break-all select-all">
          {link}
        </code>
      )}
      <div className={stacked ? 'mt-2 flex gap-3' : 'mt-2 flex items-center gap-2'}>
        {!stacked && (
          <code data-testid={testId} className="min-w-0 flex-1 truncate font-mono text-xs select-all">
            {link}
          </code>
        )}
        <button
          type="button"
          onClick={copy}
          className={stacked ? 'text-xs underline' : 'rounded border border-zinc-300 px-2 py-1 text-xs dark:border-zinc-700'}
        >
          Copy
        </button>
        <button type="button" onClick={onDone} className="text-xs underline">
          Done
        </button>
      </div>
    </div>
  );
}
