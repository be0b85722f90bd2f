'use client';

import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { Modal } from '@/components/ui/modal';

export interface ConfirmOptions {
  title: string;
  body?: ReactNode;
  confirmLabel: string;
  /** Red confirm button: it loses work or a machine. */
  danger?: boolean;
}

type Ask = (o: ConfirmOptions) => Promise<boolean>;
const ConfirmContext = createContext<Ask>(async () => false);

/** `await confirm({...})`: a modal question in Hangar's own look (not the browser's), answered by button, Enter or Esc. */
export function useConfirm(): Ask {
  return useContext(ConfirmContext);
}

export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState<(ConfirmOptions & { resolve: (ok: boolean) => void }) | null>(null);
  const ask = useCallback<Ask>((o) => new Promise<boolean>((resolve) => setOpen({ ...o, resolve })), []);
  const answer = (ok: boolean) => {
    open?.resolve(ok);
    setOpen(null);
  };
  return (
    <ConfirmContext.Provider value={ask}>
      {children}
      {open && <ConfirmDialog options={open} onAnswer={answer} />}
    </ConfirmContext.Provider>
  );
}

function ConfirmDialog({ options, onAnswer }: { options: ConfirmOptions; onAnswer: (ok: boolean) => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // A dangerous action does not go ahead on a stray Enter: focus starts on Cancel.
    (options.danger ? cancel : ok).current?.focus();
  }, [options.danger]);
  return (
    <Modal
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby={options.body ? 'confirm-body' : undefined}
      onClose={() => onAnswer(false)}
      className={`m-auto w-[calc(100%-2rem)] max-w-md rounded-xl border border-zinc-200 bg-white p-5 text-sm text-zinc-800
        shadow-xl dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      <h2 id="confirm-title" className="text-base font-semibold">
        {options.title}
      </h2>
      {options.body && (
        <div id="confirm-body" className="mt-2 space-y-2 text-zinc-600 dark:text-zinc-300">
          {options.body}
        </div>
      )}
      <div className="mt-5 flex justify-end gap-2">
        <button
          ref={cancel}
          type="button"
          onClick={() => onAnswer(false)}
          className="rounded-md px-3 py-1.5 font-medium hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          Cancel
        </button>
        <button
          ref={ok}
          type="button"
          onClick={() => onAnswer(true)}
          className={`rounded-md px-3 py-1.5 font-medium text-white ${options.danger ? 'bg-red-600 hover:bg-red-500' : 'bg-sky-700 hover:bg-sky-600'}`}
        >
          {options.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
