'use client';

import { useQuery } from '@tanstack/react-query';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';

/** Shown on every page (and the login form) when the server was started with --insecure-http beyond loopback. */
export function InsecureBanner() {
  const health = useQuery(queries(api).health()).data;
  if (health?.transport.plainReason !== 'insecure') return null;
  return (
    <div role="alert" data-testid="insecure-banner" className="bg-amber-100 px-4 py-2 text-center text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
      <strong>Not encrypted:</strong> this Hangar serves plain HTTP beyond this computer (<code className="font-mono">--insecure-http</code>). Passwords, tokens
      and console keystrokes cross the network in clear. Serve HTTPS (the default) or put a TLS proxy in front.
    </div>
  );
}
