import fs from 'node:fs';

const SECTOR = 2048;
/** The volume descriptors start at sector 16 (32768): the first 32 KiB are the system area. */
const FIRST = 16;
/** How many descriptors are looked at: a UDF volume recognition sequence follows ISO 9660's set, a few sectors on. */
const COUNT = 32;

/**
 * What a file's volume descriptors say it is: ISO 9660 ("CD001" at byte 32769, the primary
 * volume descriptor's identifier) or UDF (a volume recognition sequence: "BEA01" then "NSR02"
 * or "NSR03"); null for anything else. Reads at most 80 KiB.
 */
export function isoFormat(file: string): 'iso9660' | 'udf' | null {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(SECTOR * COUNT);
    const n = fs.readSync(fd, buf, 0, buf.length, SECTOR * FIRST);
    const ids: string[] = [];
    for (let off = 0; off + 6 <= n; off += SECTOR) ids.push(buf.toString('latin1', off + 1, off + 6));
    if (ids[0] === 'CD001') return 'iso9660';
    const bea = ids.indexOf('BEA01');
    if (bea >= 0 && ids.slice(bea + 1).some((id) => id === 'NSR02' || id === 'NSR03')) return 'udf';
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
