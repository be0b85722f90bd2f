import { createApiClient } from '@/lib/api-client';

/** The browser's API client: same origin, session cookie. */
export const api = createApiClient({ baseUrl: '' });
