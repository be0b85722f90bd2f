'use client';

/**
 * Replace the page's query string (a list's filters, a machine page's tab) without a navigation:
 * Next keeps useSearchParams in step with the History API, and a keystroke does not fetch a page.
 */
export function replaceQuery(p: URLSearchParams): void {
  const qs = p.toString();
  window.history.replaceState(null, '', qs ? `?${qs}` : window.location.pathname);
}
