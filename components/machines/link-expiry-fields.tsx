import { Options } from '@/components/ui/options';

const EXPIRY = [
  ['1 hour', 3600],
  ['24 hours', 86400],
  ['7 days', 7 * 86400],
] as const;

/** A new share link's expiry (`expires`, seconds) and optional label (`label`), as form fields. */
export function LinkExpiryFields({ expiresLabel, field }: { expiresLabel: string; field: string }) {
  return (
    <>
      <label className="text-sm">
        <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">{expiresLabel}</span>
        <select name="expires" defaultValue={86400} className={field}>
          <Options options={EXPIRY} />
        </select>
      </label>
      <label className="text-sm">
        <span className="mb-1 block text-xs text-zinc-500 dark:text-zinc-400">Label (optional)</span>
        <input name="label" maxLength={64} placeholder="for Sam" className={field} />
      </label>
    </>
  );
}
