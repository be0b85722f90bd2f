'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { keys, queries } from '@/lib/queries';
import { api } from '@/components/ui/api';
import { useToast } from '@/components/shell/toasts';

/** Whether image and ISO downloads may fetch from this host, loopback or link-local addresses (admins; off by default, against SSRF). */
export function DownloadPrivateSwitch() {
  const qc = useQueryClient();
  const toast = useToast();
  const settings = useQuery(queries(api).settings());
  // Shown as clicked at once (the server's answer follows); put back if the change is refused.
  const [allow, setAllow] = useState<boolean | null>(null);
  const save = useMutation({
    mutationFn: (on: boolean) => api.settings.update({ downloadAllowPrivate: on }),
    onSuccess: (s) => qc.setQueryData(keys.settings(), s),
    onError: (err) => (setAllow(null), toast('error', err.message)),
  });
  return (
    <label className="mb-4 flex items-center gap-2 text-sm">
      <input
        type="checkbox"
        checked={allow ?? !!settings.data?.downloadAllowPrivate}
        onChange={(e) => (setAllow(e.target.checked), save.mutate(e.target.checked))}
      />
      Allow image and ISO downloads from this host, loopback and link-local addresses (off: refused, against SSRF)
    </label>
  );
}
