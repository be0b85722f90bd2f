/** POSIX single-quoting: inside '...' nothing is special, and ' itself is written '\''. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;
