/** Each line of an NDJSON body, parsed, as it comes (blank lines skipped); the last line may lack its newline. */
export async function readJsonLines(body: AsyncIterable<Uint8Array>, onValue: (v: unknown) => void): Promise<void> {
  let buf = '';
  const dec = new TextDecoder();
  const take = (line: string) => {
    if (line.trim()) onValue(JSON.parse(line));
  };
  for await (const chunk of body) {
    buf += dec.decode(chunk, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      take(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  take(buf + dec.decode());
}
