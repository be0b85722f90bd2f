import type { SkopeoError } from '@/server/drivers/oci/skopeo';
import { BadRequestError, HangarError } from './errors';

/**
 * A registry's or skopeo's failure as the API answers it: 404 for an unknown image, else 400 (a
 * registry that does not answer is a host the caller named, as a wrong credential or certificate is).
 */
export function ociFailure(err: SkopeoError): HangarError {
  switch (err.kind) {
    case 'not-found':
      return new HangarError('not_found', err.message);
    case 'bad-ref':
      return new BadRequestError(err.message, [{ path: 'ref', message: 'an image reference' }]);
    default:
      return new BadRequestError(err.message);
  }
}
