import { z } from 'zod';

/**
 * The built-in steps as the CLI, the API and the UI know them: name, version (a new version
 * invalidates cached results), argument schema, and how command-line words become arguments.
 * What each step does lives on the server (server/core/steps/builtins.ts).
 */
export interface StepSpec<A extends z.ZodType = z.ZodType> {
  name: string;
  version: string;
  /** A base step starts the chain: it makes the machine. */
  base?: boolean;
  /** Never cached (its result depends on the moment, not on its arguments). */
  transient?: boolean;
  schema: A;
  usage: string;
  description: string;
  fromWords(words: string[]): z.input<A>;
}

const pkg = z.string().regex(/^[a-z0-9][a-z0-9+.-]{0,99}$/, 'a Debian package name');
const unit = z.string().regex(/^[A-Za-z0-9@_.:-]{1,128}$/, 'a unit name');
const absPath = z.string().regex(/^\/[^\0]{0,4095}$/, 'an absolute path');

const spec = <A extends z.ZodType>(s: StepSpec<A>) => s;

/** The Debian images a chain may start from (os.debian's `image`; the recipes' kinds). */
export const DEBIAN_IMAGES = ['debian-12', 'debian-13'] as const;

/** A leading `--timeout S` (a step's time limit in seconds; the schema checks the number), and the words after it. */
const timeoutWord = (w: string[]): { w: string[]; limit: { timeoutS?: number } } =>
  w[0] === '--timeout' ? { w: w.slice(2), limit: { timeoutS: Number(w[1]) } } : { w, limit: {} };

export const STEP_CATALOG = [
  spec({
    name: 'os.busybox',
    version: '1',
    base: true,
    usage: 'busybox',
    description: 'a busybox initramfs VM (QEMU): boots in seconds, for tests',
    schema: z.object({ memoryMib: z.number().int().min(64).max(4096).default(256) }),
    fromWords: () => ({}),
  }),
  spec({
    name: 'os.debian',
    version: '1',
    base: true,
    usage: 'debian-12|debian-13 [--driver nspawn|qemu] [--network nat|host|private]',
    description: 'Debian 12 or 13: an nspawn OS container (default; on the NAT network, so apt reaches the mirror) or a QEMU VM',
    // `image` is left out for debian-12 (the default), so the keys of chains cached before debian-13 existed stay the same.
    schema: z
      .object({
        image: z.enum(DEBIAN_IMAGES).optional(),
        driver: z.enum(['nspawn', 'qemu']).default('nspawn'),
        network: z.enum(['nat', 'host', 'private']).default('nat'),
        memoryMib: z.number().int().min(128).max(65536).default(512),
      })
      .transform(({ image, ...a }) => (image && image !== 'debian-12' ? { image, ...a } : a)),
    fromWords: (w) => {
      const opts: Record<string, string> = {};
      for (let i = 0; i + 1 < w.length; i += 2) if (w[i] === '--driver' || w[i] === '--network' || w[i] === '--image') opts[w[i].slice(2)] = w[i + 1];
      return opts as { image?: (typeof DEBIAN_IMAGES)[number]; driver?: 'nspawn' | 'qemu'; network?: 'nat' | 'host' | 'private' };
    },
  }),
  spec({
    name: 'os.oci',
    version: '1',
    base: true,
    usage: 'docker://HOST/NAME:TAG [--network nat|host|private]',
    description:
      'an OCI image from a registry (pulled on first use) as an nspawn container; the cache key has its manifest digest, so a tag pushed again builds again',
    schema: z.object({
      ref: z.string().regex(/^docker:\/\/[^\s]{1,500}$/, 'docker://HOST/NAME:TAG'),
      network: z.enum(['nat', 'host', 'private']).default('nat'),
      memoryMib: z.number().int().min(64).max(65536).default(512),
    }),
    fromWords: (w) => {
      const i = w.indexOf('--network');
      return { ref: w[0] ?? '', ...(i > 0 ? { network: w[i + 1] as 'nat' | 'host' | 'private' } : {}) };
    },
  }),
  spec({
    name: 'exec',
    version: '1',
    usage: 'exec [--timeout S] -- CMD [ARGS...]',
    description: 'run a command (argv, no shell); a non-zero exit fails the step, and so does one still running after its time limit (600 s)',
    schema: z.object({ argv: z.array(z.string().max(65536)).min(1).max(1024), timeoutS: z.number().int().min(1).max(3600).default(600) }),
    fromWords: (words) => {
      const { w, limit } = timeoutWord(words);
      return { argv: w[0] === '--' ? w.slice(1) : w, ...limit };
    },
  }),
  spec({
    name: 'sh',
    version: '1',
    usage: 'sh [--timeout S] SCRIPT_FILE | sh [--timeout S] -c "SCRIPT"',
    description: 'run a shell script (its text is part of the cache key); one still running after its time limit (600 s) fails',
    schema: z.object({ script: z.string().min(1).max(262144), timeoutS: z.number().int().min(1).max(3600).default(600) }),
    fromWords: (words) => {
      const { w, limit } = timeoutWord(words);
      return { script: w[0] === '-c' ? w.slice(1).join(' ') : w.join(' '), ...limit };
    },
  }),
  spec({
    name: 'file',
    version: '1',
    usage: 'file PATH CONTENT [MODE] | file PATH @LOCAL_FILE_OR_DIR [MODE]',
    description: 'write a file, or copy a local file or directory (the content is part of the cache key)',
    schema: z
      .object({
        path: absPath,
        content: z.string().max(786432).optional(),
        archive: z
          .string()
          .regex(/^[A-Za-z0-9+/=]*$/, 'base64 of a .tar.gz')
          .max(960000)
          .optional(),
        mode: z
          .string()
          .regex(/^[0-7]{3,4}$/)
          .default('644'),
      })
      .refine((a) => (a.content === undefined) !== (a.archive === undefined), {
        message: 'give the content, or an archive of a directory (not both)',
        path: ['content'],
      }),
    fromWords: (w) => ({ path: w[0] ?? '', content: w[1] ?? '', ...(w[2] ? { mode: w[2] } : {}) }),
  }),
  spec({
    name: 'apt',
    version: '1',
    usage: 'apt PACKAGE...',
    description: 'install Debian packages (apt-get, from the image mirror)',
    schema: z.object({ packages: z.array(pkg).min(1).max(100) }),
    fromWords: (w) => ({ packages: w }),
  }),
  spec({
    name: 'ansible',
    version: '1',
    usage: 'ansible MODULE [--KEY=VALUE | KEY=VALUE]... [-- FREE FORM]',
    description: 'run one Ansible module against the machine (ansible-core on the host), e.g. ansible package --name=patch --state=present',
    schema: z.object({
      module: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,2}$/, 'a module name (package, ansible.builtin.copy)'),
      args: z.record(z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'an argument name'), z.unknown()).default({}),
      timeoutS: z.number().int().min(1).max(86400).default(1800),
    }),
    fromWords: (w) => {
      const args: Record<string, string> = {};
      const free: string[] = [];
      for (const word of w.slice(1)) {
        const m = /^(?:--)?([a-z_][a-z0-9_]*)=(.*)$/s.exec(word);
        if (m) args[m[1]] = m[2];
        else if (word !== '--') free.push(word);
      }
      // Other words are the module's free form, as ansible -a gives it (ansible command -- uname -r).
      return { module: w[0] ?? '', args: free.length ? { ...args, _raw_params: free.join(' ') } : args };
    },
  }),
  spec({
    name: 'ansible-playbook',
    version: '1',
    usage: 'ansible-playbook @site.yml | ansible-playbook "PLAYBOOK YAML"',
    description: "run a playbook against the machine (hosts: all; the playbook's text is part of the cache key)",
    schema: z.object({ playbook: z.string().min(1).max(262144), timeoutS: z.number().int().min(1).max(86400).default(1800) }),
    fromWords: (w) => ({ playbook: w.join(' ') }),
  }),
  spec({
    name: 'service',
    version: '1',
    usage: 'service UNIT',
    description: 'enable and start a systemd unit',
    schema: z.object({ unit }),
    fromWords: (w) => ({ unit: w[0] ?? '' }),
  }),
  spec({
    name: 'user',
    version: '1',
    usage: 'user NAME',
    description: 'create a user with a home directory',
    schema: z.object({ name: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user name') }),
    fromWords: (w) => ({ name: w[0] ?? '' }),
  }),
  spec({
    name: 'wait-port',
    version: '1',
    transient: true,
    usage: 'wait-port PORT [TIMEOUT_S]',
    description: 'wait until a TCP port accepts connections inside the machine',
    schema: z.object({ port: z.number().int().min(1).max(65535), timeoutS: z.number().int().min(1).max(3600).default(60) }),
    fromWords: (w) => ({ port: Number(w[0]), ...(w[1] ? { timeoutS: Number(w[1]) } : {}) }),
  }),
  spec({
    name: 'ssh',
    version: '1',
    usage: 'ssh [--user NAME] [PUBLIC_KEY | @KEY_FILE]',
    description: 'an SSH server running, and a public key allowed to log in (the CLI offers yours from ~/.ssh when none is given)',
    schema: z.object({
      user: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user name')
        .default('root'),
      key: z
        .string()
        .regex(
          /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]{16,16384}( [^\n\0]{0,256})?$/,
          'an OpenSSH public key line',
        )
        .optional(),
    }),
    fromWords: (w) => {
      const i = w.indexOf('--user');
      const rest = i >= 0 ? [...w.slice(0, i), ...w.slice(i + 2)] : w;
      return { ...(i >= 0 ? { user: w[i + 1] ?? '' } : {}), ...(rest.length ? { key: rest.join(' ') } : {}) };
    },
  }),
  spec({
    name: 'probe',
    version: '1',
    transient: true,
    usage: 'probe URL [EXPECTED_TEXT] [--timeout S]',
    description: 'check that a URL answers inside the machine (2xx, and the text if given); retried until the timeout',
    schema: z.object({
      url: z.string().regex(/^https?:\/\/[^\s\0]{1,2000}$/, 'an http:// or https:// URL'),
      expect: z.string().min(1).max(1000).optional(),
      timeoutS: z.number().int().min(1).max(3600).default(60),
    }),
    fromWords: (w) => {
      const i = w.indexOf('--timeout');
      const rest = i >= 0 ? [...w.slice(0, i), ...w.slice(i + 2)] : w;
      return { url: rest[0] ?? '', ...(rest[1] ? { expect: rest.slice(1).join(' ') } : {}), ...(i >= 0 ? { timeoutS: Number(w[i + 1]) } : {}) };
    },
  }),
] as const;

export type CatalogName = (typeof STEP_CATALOG)[number]['name'];

/** Base image names as a chain may start: `busybox`, `debian-12`, `debian-13`, or the step names. */
export const BASE_ALIASES: Record<string, CatalogName> = {
  busybox: 'os.busybox',
  'os.busybox': 'os.busybox',
  'debian-12': 'os.debian',
  'debian-13': 'os.debian',
  debian: 'os.debian',
  'os.debian': 'os.debian',
  'os.oci': 'os.oci',
};

/** The arguments a base name carries besides its step: `debian-13` is os.debian with `image: debian-13`. */
export const BASE_ALIAS_ARGS: Record<string, Record<string, string>> = { 'debian-13': { image: 'debian-13' } };

export function findStep(name: string): StepSpec | undefined {
  return (STEP_CATALOG as readonly StepSpec[]).find((s) => s.name === name);
}
