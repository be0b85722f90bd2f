/** POSIX single-quoting: inside '...' nothing is special, and ' itself is written '\''. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** argv as one line for a shell to run (an SSH command, a guest agent's script), each word quoted: nothing in it is parsed. */
export const shellLine = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');
