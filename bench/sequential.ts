import http from 'node:http';
import https from 'node:https';

/** GET `url` `n` times one after another over `agent` (keep-alive), with a bearer token: each latency in ms. */
export async function sequentialGets(url: string, token: string, agent: http.Agent, n: number): Promise<number[]> {
  const mod = url.startsWith('https:') ? https : http;
  const get = (): Promise<void> =>
    new Promise((resolve, reject) => {
      mod
        .get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: status ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await get();
    times.push(performance.now() - t);
  }
  return times;
}
