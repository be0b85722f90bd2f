import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LoginForm } from '@/components/shell/login-form';
import { InsecureBanner } from '@/components/shell/insecure-banner';
import { SsoButtons } from '@/components/shell/sso-buttons';

export const metadata: Metadata = { title: 'Log in' };

export default function LoginPage() {
  return (
    <>
      <InsecureBanner />
      <main className="flex min-h-full items-center justify-center p-6">
        <div className="w-full max-w-sm">
          <div className="mb-8 flex items-center justify-center gap-3">
            <img src="/favicon.svg" alt="" width={36} height={36} />
            <h1 className="text-2xl font-semibold tracking-tight">Hangar</h1>
          </div>
          <Suspense>
            <SsoButtons />
            <LoginForm />
          </Suspense>
          <p className="mt-6 text-center text-xs text-zinc-500 dark:text-zinc-400">
            First run? The admin password was printed by <code className="font-mono">./hangar up</code>.
          </p>
        </div>
      </main>
    </>
  );
}
