'use client';

import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { queries } from '@/lib/queries';
import { api } from '@/components/ui/api';

/** What the CLI put in the link: its loopback port, its state and the challenge of its verifier. Anything else is refused here. */
function request(params: URLSearchParams) {
  const port = Number(params.get('port'));
  const state = params.get('state') ?? '';
  const challenge = params.get('challenge') ?? '';
  const name = (params.get('name') ?? 'cli').slice(0, 64);
  const ok = Number.isInteger(port) && port >= 1024 && port <= 65535 && /^[A-Za-z0-9_-]{16,64}$/.test(state) && /^[A-Za-z0-9_-]{43}$/.test(challenge);
  return ok ? { port, state, challenge, name } : null;
}

/**
 * The browser's half of `hangar login --browser`: the signed-in person says yes, the server
 * makes a one-time code, and the page hands it to the CLI on 127.0.0.1 (only there: the port is
 * the one thing the link chooses).
 */
export function CliLoginApproval() {
  const params = useSearchParams();
  const me = useQuery(queries(api).me()).data;
  const [state, setState] = useState<'ask' | 'busy' | 'sent' | 'error'>('ask');
  const [error, setError] = useState('');
  const req = request(params);
  if (!req)
    return (
      <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950/50 dark:text-red-300">
        This link is not one hangar login --browser makes. Run it again and open the page it prints.
      </p>
    );
  const approve = async () => {
    setState('busy');
    try {
      const { code } = await api.auth.approveCliLogin({ challenge: req.challenge, name: req.name });
      setState('sent');
      window.location.assign(`http://127.0.0.1:${req.port}/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(req.state)}`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setState('error');
    }
  };
  return (
    <div className="space-y-4 rounded-xl border border-zinc-200 bg-white p-5 text-sm dark:border-zinc-800 dark:bg-zinc-900/40">
      <p>
        A Hangar CLI on this computer asks for an API token named <span className="font-mono">{req.name}</span>
        {me ? (
          <>
            {' '}
            for <span className="font-medium">{me.user.username}</span> ({me.role})
          </>
        ) : null}
        . It can do what you can, until you revoke it in Settings → API tokens.
      </p>
      <p className="text-zinc-600 dark:text-zinc-400">Only say yes if you just ran hangar login --browser yourself.</p>
      {state === 'error' && (
        <p role="alert" className="text-red-700 dark:text-red-300">
          {error}
        </p>
      )}
      {state === 'sent' ? (
        <p data-testid="cli-login-sent">Signed in: the CLI has its token. You can close this tab.</p>
      ) : (
        <button
          type="button"
          onClick={approve}
          disabled={state === 'busy'}
          className="rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white hover:bg-sky-600 disabled:opacity-60"
        >
          Sign in the CLI
        </button>
      )}
    </div>
  );
}
