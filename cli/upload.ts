import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CliError } from './output';

/** A local file as an upload body (streamed, never read whole), with its size and base name; not a file: a CLI error (exit 2) naming `label`. */
export function fileBody(where: string, label = where): { body: ReadableStream<Uint8Array>; size: number; name: string } {
  const st = fs.statSync(where, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new CliError(`${label}: no such file`, 2);
  return { body: Readable.toWeb(fs.createReadStream(where)) as ReadableStream<Uint8Array>, size: st.size, name: path.basename(where) };
}
