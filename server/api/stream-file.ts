import fs from 'node:fs';
import { Readable } from 'node:stream';

/** A temp archive file streamed (with its length), removed once sent or cut. */
export function streamFile(file: string, headers: Record<string, string> = {}): Response {
  const size = fs.statSync(file).size;
  const stream = fs.createReadStream(file);
  stream.once('close', () => fs.rmSync(file, { force: true }));
  return new Response(Readable.toWeb(stream) as ReadableStream, {
    headers: { 'content-type': 'application/x-tar', 'content-length': String(size), ...headers },
  });
}
