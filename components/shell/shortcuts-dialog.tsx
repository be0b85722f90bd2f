'use client';

import { shortcutGroups } from '@/lib/shortcuts';
import { Modal } from '@/components/ui/modal';

/** The list of keyboard shortcuts (press ?). */
export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal
      aria-labelledby="shortcuts-title"
      onClose={onClose}
      closeOnBackdrop
      className={`m-auto max-h-[85vh] w-[calc(100%-2rem)] max-w-2xl overflow-y-auto rounded-xl border border-zinc-200 bg-white
        p-6 text-zinc-900 shadow-2xl dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      <div className="flex items-start justify-between gap-4">
        <h2 id="shortcuts-title" className="text-base font-semibold">
          Keyboard shortcuts
        </h2>
        <button type="button" autoFocus onClick={onClose} className="rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
          Close
        </button>
      </div>
      <div className="mt-4 grid gap-6 sm:grid-cols-2">
        {shortcutGroups.map((g) => (
          <section key={g.title} aria-label={g.title}>
            <h3 className="mb-2 text-xs font-semibold text-zinc-600 uppercase dark:text-zinc-400">{g.title}</h3>
            <dl className="space-y-1.5 text-sm">
              {g.items.map((s) => (
                <div key={s.keys.join('+') + s.what} className="flex items-start gap-3">
                  <dt className="flex shrink-0 gap-1">
                    {s.keys.map((k) => (
                      <kbd
                        key={k}
                        className={`min-w-6 rounded border border-zinc-300 bg-zinc-50 px-1.5 py-0.5 text-center font-mono text-xs
                          dark:border-zinc-600 dark:bg-zinc-800`}
                      >
                        {k}
                      </kbd>
                    ))}
                  </dt>
                  <dd className="text-zinc-700 dark:text-zinc-300">{s.what}</dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Modal>
  );
}
