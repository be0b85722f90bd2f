'use client';

/**
 * A form's last row: its submit button (its own words while it works), Cancel, and the server's
 * refusal as it said it (an alert, so a screen reader says it).
 */
export function FormActions({
  label,
  busyLabel,
  busy,
  onCancel,
  error,
  className = '',
}: {
  label: string;
  busyLabel: string;
  busy: boolean;
  onCancel: () => void;
  error?: string;
  className?: string;
}) {
  return (
    <div className={`flex flex-wrap items-end gap-3 ${className}`}>
      <button
        type="submit"
        disabled={busy}
        className="shrink-0 rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium whitespace-nowrap text-white hover:bg-sky-600 disabled:opacity-60"
      >
        {busy ? busyLabel : label}
      </button>
      <button
        type="button"
        onClick={onCancel}
        className="rounded-md px-3 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
      >
        Cancel
      </button>
      {error && (
        <span role="alert" className="min-w-0 text-sm break-words text-red-600 dark:text-red-400">
          {error}
        </span>
      )}
    </div>
  );
}
