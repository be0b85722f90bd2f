import type { SkopeoError } from '@/server/drivers/oci/skopeo';
import { BadRequestError, HangarError, UnavailableError } from './errors';

/** A registry's or skopeo's failure as the API answers it: 404 for an unknown image, 503 for a registry out of reach, else 400. */
export function ociFailure(err: SkopeoError): HangarError {
  switch (err.kind) {
    case 'not-found':
      return new HangarError('not_found', err.message);
    case 'unreachable':
      return new UnavailableError(err.message);
    case 'bad-ref':
      return new BadRequestError(err.message, [{ path: 'ref', message: 'an image reference' }]);
    default:
      return new BadRequestError(err.message);
  }
}
