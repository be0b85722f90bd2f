// @ts-check
import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The API and sockets live in the custom server (server/main.ts); Next only renders pages.
  turbopack: { root: fileURLToPath(new URL('.', import.meta.url)) },
  // `./hangar test` builds with this set: its typecheck tier runs tsc over the whole tree (a superset of what the
  // build checks) beside the other static tiers, so the build's own pass (~30 s on 2 cores) would only repeat it.
  typescript: { ignoreBuildErrors: process.env.HANGAR_BUILD_SKIP_TYPECHECK === '1' },
};

export default nextConfig;
