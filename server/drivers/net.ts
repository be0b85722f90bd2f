import net from 'node:net';

/** True when nothing listens on 127.0.0.1:port (QEMU's hostfwd binds there). */
export function loopbackPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free loopback port from the kernel's ephemeral range; `keep` first when it is still free. */
export async function pickLoopbackPort(keep?: unknown): Promise<number> {
  if (typeof keep === 'number' && (await loopbackPortFree(keep))) return keep;
  return new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
