/** The block `hangar ssh-config` keeps in an OpenSSH config file, between these markers. */
export const BEGIN = '# >>> hangar ssh-config >>> (written by `hangar ssh-config`: rewritten on each run, edits inside are lost)';
export const END = '# <<< hangar ssh-config <<<';

export interface BlockInput {
  hosts: { name: string; user: string }[];
  /** The command OpenSSH runs to reach a machine, with %n where the host name goes. */
  proxyCommand: string;
  knownHosts: string;
}

/** Quote a path for ssh_config (double quotes; a path with a double quote in it is refused). */
export function sshQuote(s: string): string {
  if (/["\n\r]/.test(s)) throw new Error(`Cannot write a path with a quote or newline into ssh_config: ${JSON.stringify(s)}`);
  return /[\s#]/.test(s) ? `"${s}"` : s;
}

/**
 * One `Host hangar.NAME` per machine (its user), then the `hangar.*` wildcard with the tunnel and
 * Hangar's known_hosts: OpenSSH takes the first value it meets for each option, so the machine's
 * own lines come first.
 */
export function renderBlock(b: BlockInput): string {
  const lines = [BEGIN];
  for (const h of [...b.hosts].sort((x, y) => x.name.localeCompare(y.name))) lines.push(`Host hangar.${h.name}`, `  User ${h.user}`, '');
  lines.push(
    'Host hangar.*',
    `  ProxyCommand ${b.proxyCommand}`,
    `  UserKnownHostsFile ${sshQuote(b.knownHosts)}`,
    '  User root',
    '  ServerAliveInterval 30',
    END,
  );
  return lines.join('\n') + '\n';
}

/** The config with our block replaced (or added at the end); everything outside the markers kept as it was. */
export function replaceBlock(config: string, block: string): string {
  const start = config.indexOf(BEGIN);
  const end = start >= 0 ? config.indexOf(END, start) : -1;
  if (start >= 0 && end < 0) throw new Error(`The config has the start marker of Hangar's block but not its end ("${END}"): fix it by hand.`);
  if (start < 0) return config + (config && !config.endsWith('\n') ? '\n' : '') + (config ? '\n' : '') + block;
  const after = config.slice(end + END.length).replace(/^\r?\n/, '');
  return config.slice(0, start) + block + after;
}

/** known_hosts lines for one machine: its alias and each host key. */
export const knownHostLines = (name: string, keys: string[]): string[] => keys.map((k) => `hangar.${name} ${k}`);

/** Strip the `hangar.` prefix OpenSSH passes as %n. */
export const machineOfHost = (host: string): string => host.replace(/^hangar\./, '');
