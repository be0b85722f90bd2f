import { z } from 'zod';
import { defaultRoleLimits, roleLimitsSchema } from './limits';

export const settingsSchema = z.object({
  /** Lets admins open a shell on the Hangar host from the browser. Off by default: it is root on the host. */
  consoleHostShell: z.boolean(),
  /** Scrollback kept per console session, replayed to each new viewer. */
  consoleScrollbackKib: z.number().int().min(16).max(16384),
  /** Machines may not take more than this share of host memory together (guest RAM as configured). */
  memoryLimit: z.number().min(0.1).max(4),
  /** Debian archive for image builds; empty = the one in the host's apt sources. */
  debianMirror: z.union([
    z.literal(''),
    z
      .string()
      .max(500)
      .regex(/^(https?|file):\/\/[^\s'"\\]+$/, 'an http(s):// or file:// URL'),
  ]),
  /** Where bare image names (`alpine:3.20`) are pulled from; on docker.io a one-part name is under `library/`. */
  defaultRegistry: z
    .string()
    .max(255)
    .regex(/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, 'host or host:port'),
  /** The step cache may take this much disk (its snapshots); least recently used unreferenced steps go first. 0: no budget. */
  stepCacheBudgetMib: z
    .number()
    .int()
    .min(0)
    .max(16 * 2 ** 20),
  /** Cached steps unused this long go (unless a machine runs on them). 0: keep forever. */
  stepCacheMaxAgeDays: z.number().int().min(0).max(3650),
  /** Console recordings older than this go. 0: keep them. */
  recordingRetentionDays: z.number().int().min(0).max(3650),
  /** Webhooks may point at this host, loopback or link-local addresses (off: refused, SSRF). */
  webhookAllowPrivate: z.boolean(),
  /** Downloads (image tarballs, ISOs from a URL) may fetch from this host, loopback or link-local addresses (off: refused, SSRF). */
  downloadAllowPrivate: z.boolean(),
  /** Ed25519 public keys (raw, base64) of the Hangars whose published images this one pulls (its own is always trusted). */
  imageTrustedKeys: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'an Ed25519 public key (base64, as Settings → Images shows it)')).max(32),
  /** The largest ISO the library keeps (uploads and downloads past it are refused, 413). */
  isoMaxMib: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024),
  /** The most one OCI pull or archive import may add to the image store (its missing layers, as the manifest declares them). 0: the free space only. */
  imagePullMaxMib: z
    .number()
    .int()
    .min(0)
    .max(1024 * 1024 * 16),
  /** What a user of each role may hold at once (machines, vCPUs, memory, disk); null: no limit. Users may have overrides. */
  roleLimits: roleLimitsSchema,
  /** QEMU processes each hot snapshot keeps started ahead for forks (each counts as a machine of its size). 0: none. */
  hotStandbys: z.number().int().min(0).max(16),
  /** Password logins. Off (with a sign-in provider set up): only the break-glass admin below may still use a password. */
  localLogin: z.boolean(),
  /** The local admin account that may always log in with its password (for when the provider is down). */
  breakGlassAdmin: z.string().regex(/^[a-z][a-z0-9._-]{1,31}$/, 'a username'),
});
export type Settings = z.infer<typeof settingsSchema>;

export const defaultSettings: Settings = {
  consoleHostShell: false,
  consoleScrollbackKib: 512,
  memoryLimit: 0.9,
  debianMirror: '',
  defaultRegistry: 'docker.io',
  stepCacheBudgetMib: 20480,
  stepCacheMaxAgeDays: 30,
  recordingRetentionDays: 30,
  webhookAllowPrivate: false,
  downloadAllowPrivate: false,
  imageTrustedKeys: [],
  isoMaxMib: 8192,
  imagePullMaxMib: 0,
  roleLimits: defaultRoleLimits,
  hotStandbys: 2,
  localLogin: true,
  breakGlassAdmin: 'admin',
};

export const settingsPatchSchema = settingsSchema.partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;
