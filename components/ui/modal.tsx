'use client';

import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A native modal <dialog>: shown on mount (the browser traps focus, makes the page behind it
 * inert and gives focus back when it closes), Esc closes it through `onClose`, and with
 * `closeOnBackdrop` so does a click beside it.
 */
export function Modal({
  onClose,
  closeOnBackdrop = false,
  className,
  children,
  ...aria
}: {
  onClose: () => void;
  closeOnBackdrop?: boolean;
  className: string;
  children: ReactNode;
  role?: 'alertdialog';
  'aria-label'?: string;
  'aria-labelledby'?: string;
  'aria-describedby'?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    d?.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      {...aria}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => closeOnBackdrop && e.target === ref.current && onClose()}
      className={`${className} backdrop:bg-zinc-950/50`}
    >
      {children}
    </dialog>
  );
}
