import { z } from 'zod';

const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]{0,99}$/, 'a Debian package name');

/** A package probe (the racker/postroj idea): install into a throwaway container, check it works, report, remove everything. */
export const probeBodySchema = z.object({
  image: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'an image name').default('debian-12'),
  packages: z.array(packageName).min(1).max(20),
  /** A systemd unit that must be active after the install (default: none). */
  checkUnit: z.string().regex(/^[A-Za-z0-9@_.:-]{1,128}$/, 'a unit name').optional(),
  /** A URL that must answer (2xx or 3xx) from the host, the container being on the host network. */
  checkNetwork: z.url({ protocol: /^https?$/ }).max(2048).optional(),
});
export type ProbeBody = z.input<typeof probeBodySchema>;

export const probeReportSchema = z.object({
  ok: z.boolean(),
  image: z.string(),
  packages: z.array(z.object({ name: z.string(), version: z.string().nullable() })),
  unit: z.object({ name: z.string(), state: z.string(), ok: z.boolean() }).nullable(),
  network: z.object({ url: z.string(), status: z.number().int().nullable(), error: z.string().nullable(), ok: z.boolean() }).nullable(),
  durationS: z.number(),
});
export type ProbeReport = z.infer<typeof probeReportSchema>;
