/** Only same-site paths: `?next=https://evil.example` or `//evil.example` must not turn login into an open redirect. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
