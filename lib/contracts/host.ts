import { z } from 'zod';

export const capabilityNames = ['qemu', 'kvm', 'tcg', 'nspawn', 'podman', 'criu', 'overlayfs', 'reflink', 'nat'] as const;
export type CapabilityName = (typeof capabilityNames)[number];

export const capabilitySchema = z.object({
  name: z.enum(capabilityNames),
  available: z.boolean(),
  /** Why it is or is not available: shown next to greyed-out features. */
  reason: z.string(),
  version: z.string().nullable(),
  /** Extra facts, e.g. the podman flags that work on this host. */
  details: z.record(z.string(), z.string()).default({}),
});
export type Capability = z.infer<typeof capabilitySchema>;

export const hostInfoSchema = z.object({
  hostname: z.string(),
  kernel: z.string(),
  cpus: z.number().int(),
  memoryMib: z.number().int(),
  probedAt: z.number().int(),
  probeMs: z.number(),
  capabilities: z.array(capabilitySchema),
});
export type HostInfo = z.infer<typeof hostInfoSchema>;
