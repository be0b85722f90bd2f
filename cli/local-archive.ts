/**
 * `oci-archive:FILE`, `docker-archive:FILE` (what docker/podman save write) or `oci:DIR` (an OCI
 * layout): a local image the CLI uploads. No zod here: `hangar run`'s light path asks too.
 */
export const LOCAL_ARCHIVE = /^(oci-archive|docker-archive|oci):(.+)$/;
