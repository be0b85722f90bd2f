import fs from 'node:fs';

/** Bytes a file or a whole directory tree takes on disk. */
export function diskUsage(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.blocks * 512;
  return fs.readdirSync(p).reduce((a, e) => a + diskUsage(`${p}/${e}`), st.blocks * 512);
}
