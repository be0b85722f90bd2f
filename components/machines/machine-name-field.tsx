'use client';

/** The input class of the machine forms (New machine, Adopt over SSH). */
export const fieldClass = 'mt-1 block w-full rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** A new machine's name: a hostname's letters (what the server takes), and the server's word on it when it refused. */
export function MachineNameField({ placeholder, error }: { placeholder: string; error?: string }) {
  return (
    <label className="text-sm font-medium sm:col-span-2">
      Name
      <input
        name="name"
        required
        maxLength={63}
        placeholder={placeholder}
        pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?"
        title="lowercase letters, digits and dashes"
        className={fieldClass}
      />
      {error && <span className="mt-1 block text-xs text-red-600 dark:text-red-400">{error}</span>}
    </label>
  );
}
