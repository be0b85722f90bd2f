'use client';

import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import type { DriverInfo } from '@/lib/contracts/machines';
import { formatBytes } from '@/lib/format';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { isoNameOf, useIsoUpload } from '@/components/images/iso-library';

const field = 'mt-1 block w-full rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * New machine -> "Install from ISO": which library ISO goes in the CD-ROM drive (or one uploaded
 * from here), the empty disk's size, and the firmware (what the driver lists). Form fields `iso`,
 * `diskGib`, `firmware`.
 */
export function IsoInstallFields({ driver, err }: { driver: DriverInfo; err: (k: string) => React.ReactNode }) {
  const isos = useQuery(queries(api).isos());
  const [picked, setPicked] = useState<string | null>(null);
  const file = useRef<HTMLInputElement>(null);
  const upload = useIsoUpload(setPicked);
  const list = isos.data ?? [];
  const value = picked ?? list[0]?.name ?? '';
  return (
    <>
      <label className="text-sm font-medium sm:col-span-2">
        ISO
        <div className="flex items-end gap-2">
          <select name="iso" className={field} value={value} onChange={(e) => setPicked(e.target.value)} required data-testid="new-machine-iso">
            {list.length === 0 && <option value="">No ISOs yet: upload one</option>}
            {list.map((i) => (
              <option key={i.id} value={i.name}>
                {i.name} · {formatBytes(i.sizeBytes)}
              </option>
            ))}
          </select>
          <input
            ref={file}
            type="file"
            accept=".iso,.img"
            className="hidden"
            aria-label="ISO to upload"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) upload.mutate({ file: f, name: isoNameOf(f.name) });
            }}
          />
          <button
            type="button"
            onClick={() => file.current?.click()}
            disabled={upload.isPending}
            className="shrink-0 rounded-md border border-zinc-300 px-2 py-1.5 text-sm font-normal disabled:opacity-60 dark:border-zinc-700"
          >
            {upload.isPending ? 'Uploading…' : 'Upload…'}
          </button>
        </div>
        {err('iso')}
      </label>
      <label className="text-sm font-medium">
        Disk (GiB)
        <input name="diskGib" type="number" min={1} max={1024} defaultValue={20} className={field} />
        {err('diskGib')}
      </label>
      <label className="text-sm font-medium" title="BIOS (SeaBIOS) or UEFI (OVMF, with a variable store of its own)">
        Firmware
        <select name="firmware" className={field} defaultValue="bios">
          {driver.firmwares.map((f) => (
            <option key={f} value={f}>
              {f === 'uefi' ? 'UEFI (OVMF)' : 'BIOS'}
            </option>
          ))}
        </select>
        {err('firmware')}
      </label>
    </>
  );
}
