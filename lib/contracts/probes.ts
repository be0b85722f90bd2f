import { z } from 'zod';

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]{0,99}$/, 'a Debian package name');
const imageName = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'an image name');

/** A package probe (the racker/postroj idea): install into a throwaway container, check it works, report, remove everything. */
export const probeBodySchema = z
  .object({
    image: imageName.default('debian-12'),
    /** Several images (postroj's selftest): the probe runs on each in parallel and the job's result is a matrix (image × check). */
    images: z.array(imageName).min(1).max(8).optional(),
    packages: z.array(packageName).max(20).default([]),
    /** Local .deb files uploaded first (POST /probes/packages), by upload id: installed with their dependencies. */
    uploads: z
      .array(z.string().regex(/^upl_[a-z0-9]{10,40}$/, 'an upload id'))
      .max(5)
      .default([]),
    /** A systemd unit that must be active after the install (default: none). */
    checkUnit: z
      .string()
      .regex(/^[A-Za-z0-9@_.:-]{1,128}$/, 'a unit name')
      .optional(),
    /** A URL that must answer (2xx or 3xx) from the host, the container being on the host network. */
    checkNetwork: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
  })
  .refine((b) => b.packages.length + b.uploads.length > 0, { message: 'name a package or upload a .deb', path: ['packages'] });
export type ProbeBody = z.input<typeof probeBodySchema>;

/** A .deb uploaded for a probe: what dpkg-deb read from it. */
export const uploadedPackageSchema = z.object({
  id: z.string(),
  package: z.string(),
  version: z.string(),
  architecture: z.string(),
  sizeBytes: z.number().int(),
});
export type UploadedPackage = z.infer<typeof uploadedPackageSchema>;

export const probeReportSchema = z.object({
  ok: z.boolean(),
  image: z.string(),
  packages: z.array(z.object({ name: z.string(), version: z.string().nullable() })),
  unit: z.object({ name: z.string(), state: z.string(), ok: z.boolean() }).nullable(),
  network: z.object({ url: z.string(), status: z.number().int().nullable(), error: z.string().nullable(), ok: z.boolean() }).nullable(),
  /** Why no package could be installed (an image without apt-get), when that is the case. */
  error: z.string().nullable().optional(),
  durationS: z.number(),
});
export type ProbeReport = z.infer<typeof probeReportSchema>;

/** One check on one image: `package P`, `unit U` or `network URL`, passed or not, and what was seen (a version, a state, the reason). */
export const probeCellSchema = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() });

/** A probe over several images: a row per image (its report, or null when the probe could not run there), a cell per check. */
export const probeMatrixSchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.string()),
  rows: z.array(z.object({ image: z.string(), ok: z.boolean(), cells: z.array(probeCellSchema), report: probeReportSchema.nullable() })),
  durationS: z.number(),
});
export type ProbeMatrix = z.infer<typeof probeMatrixSchema>;
