import type { DriverDescription, Feature } from '@/lib/contracts/drivers';
import type { CapabilityName, HostInfo } from '@/lib/contracts/host';

/** A host feature from the probe; null before the first probe. */
export const capOf = (host: HostInfo | null, name: CapabilityName) => host?.capabilities.find((c) => c.name === name) ?? null;

export const yes: Feature = { available: true, reason: null };
export const no = (reason: string): Feature => ({ available: false, reason });

/** No extra disks or volumes for this kind, and why. */
export const noDisks = (reason: string): DriverDescription['disks'] => ({ ...no(reason), kind: 'disk', buses: [], resize: no(reason), hotplug: no(reason) });

/** Whether the host has every feature in `needs`: the first one missing says why (before a probe: assumed there). */
export function hostHas(host: HostInfo | null, needs: CapabilityName[]): Feature {
  if (!host) return yes;
  for (const name of needs) {
    const c = capOf(host, name);
    if (!c?.available) return no(c?.reason ?? `${name} not probed`);
  }
  return yes;
}
