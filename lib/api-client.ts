import { accessApi } from './client/access';
import { adminApi } from './client/admin';
import { imagesApi } from './client/images';
import { machinesApi } from './client/machines';
import { sharingApi } from './client/sharing';
import { snapshotsApi } from './client/snapshots';
import { transport, type ClientOptions } from './client/transport';

export { ApiError, type ClientOptions } from './client/transport';
export type { DiffOptions } from './client/snapshots';

/**
 * One typed client for the browser and the CLI, built from the same zod contracts the
 * server validates with; responses are parsed too, so a drift shows up as an error here.
 * Each area's calls are in lib/client/.
 */
export function createApiClient(opts: ClientOptions) {
  const t = transport(opts);
  return {
    ...accessApi(t),
    ...sharingApi(t),
    ...machinesApi(t),
    ...snapshotsApi(t),
    ...imagesApi(t),
    ...adminApi(t),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
