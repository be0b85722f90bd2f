'use client';

import { useRef } from 'react';

/**
 * The end of an import form: Download (the form's submit: the server fetches the URL), "or",
 * and Upload… (a file from this computer, picked through a hidden file input). The disk image,
 * root filesystem and ISO forms share it.
 */
export function DownloadOrUpload({
  canDownload,
  canUpload,
  uploading,
  accept,
  fileLabel,
  testId,
  uploadLabel,
  uploadTitle,
  onFile,
}: {
  canDownload: boolean;
  canUpload: boolean;
  uploading: boolean;
  /** The file picker's filter (`.iso,.img`). */
  accept: string;
  /** The hidden file input's accessible name. */
  fileLabel: string;
  testId: string;
  /** "Upload disk…" */
  uploadLabel: string;
  uploadTitle?: string;
  /** A file was picked; the input is cleared after, so the same file can be picked again. */
  onFile: (file: File) => void;
}) {
  const file = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="submit" disabled={!canDownload} className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white disabled:opacity-60">
        Download
      </button>
      <span className="py-1.5 text-zinc-500 dark:text-zinc-400">or</span>
      <input
        ref={file}
        type="file"
        accept={accept}
        className="hidden"
        aria-label={fileLabel}
        data-testid={testId}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = '';
        }}
      />
      <button
        type="button"
        disabled={!canUpload}
        title={uploadTitle}
        onClick={() => file.current?.click()}
        className="rounded-md border border-zinc-300 px-3 py-1.5 font-medium disabled:opacity-60 dark:border-zinc-700"
      >
        {uploading ? 'Uploading…' : uploadLabel}
      </button>
    </>
  );
}
