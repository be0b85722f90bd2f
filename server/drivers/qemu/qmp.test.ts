import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Qmp } from './qmp';
import { resume } from './snapshot';

/**
 * A fake QMP server on a unix socket (unit tier: the real QEMU cases are in
 * server/integration/qmp.int.test.ts): greets, then answers each command line with `answer`.
 */
type Answer = (execute: string, args: unknown) => object | null;
const servers: net.Server[] = [];
const dirs: string[] = [];
async function fakeQmp(answer: Answer): Promise<{ sock: string; seen: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-qmp-'));
  dirs.push(dir);
  const sock = path.join(dir, 'qmp.sock');
  const seen: string[] = [];
  const server = net.createServer((c) => {
    c.write('{"QMP": {"version": {}, "capabilities": []}}\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const { execute, arguments: args } = JSON.parse(buf.slice(0, i)) as { execute: string; arguments?: unknown };
        buf = buf.slice(i + 1);
        seen.push(execute);
        const a = execute === 'qmp_capabilities' ? { return: {} } : answer(execute, args);
        if (a) c.write(JSON.stringify(a) + '\n');
      }
    });
    c.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(sock, r));
  return { sock, seen };
}

afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('Qmp', () => {
  it('answers in order, events aside', async () => {
    const { sock } = await fakeQmp((execute) =>
      execute === 'query-status' ? { return: { running: true, status: 'running' } } : { return: { echo: execute } },
    );
    const q = await Qmp.connect(sock);
    const [a, b] = await Promise.all([q.execute('one'), q.executeAll([['two'], ['query-status']])]);
    expect(a).toEqual({ echo: 'one' });
    expect(b).toEqual([{ echo: 'two' }, { running: true, status: 'running' }]);
    q.close();
  });

  it('awaits an answer for a bounded time, then closes: no later answer goes to the wrong waiter', async () => {
    const { sock } = await fakeQmp((execute) => (execute === 'lost' ? null : { return: execute }));
    const q = await Qmp.connect(sock);
    const lost = q.execute('lost', undefined, 100);
    const next = q.execute('next');
    await expect(lost).rejects.toThrow('QMP: no answer to lost within 100 ms');
    await expect(next).rejects.toThrow(/QMP connection closed/);
    await expect(q.execute('after')).rejects.toThrow(/QMP connection closed/);
  });

  it('rejects a command QEMU refuses with its reason', async () => {
    const { sock } = await fakeQmp(() => ({ error: { class: 'GenericError', desc: 'nope' } }));
    const q = await Qmp.connect(sock);
    await expect(q.execute('cont')).rejects.toThrow('QMP: nope');
    q.close();
  });
});

describe('resume after a checkpoint', () => {
  /** QEMU after an outgoing migration: `completed` is said while the run state is still finish-migrate for a few queries. */
  const qemuAfterMigration = (finishing: number) => {
    let state = 'finish-migrate';
    let queries = 0;
    return (execute: string): object => {
      if (execute === 'query-status') {
        if (++queries > finishing && state === 'finish-migrate') state = 'postmigrate';
        return { return: { running: state === 'running', status: state } };
      }
      if (execute === 'cont') {
        if (state === 'finish-migrate') return { error: { class: 'GenericError', desc: 'Migration is not finalized yet' } };
        state = 'running';
        return { return: {} };
      }
      return { return: {} };
    };
  };

  it('waits out finish-migrate, sends cont once it is accepted, and sees the guest run', async () => {
    const { sock, seen } = await fakeQmp(qemuAfterMigration(3));
    const q = await Qmp.connect(sock);
    await resume(q);
    expect(seen.filter((c) => c === 'cont')).toHaveLength(1);
    expect(await q.execute('query-status')).toMatchObject({ running: true });
    q.close();
  });

  it('says why when the guest does not run again in time', async () => {
    const { sock } = await fakeQmp((execute) =>
      execute === 'query-status' ? { return: { running: false, status: 'io-error' } } : { error: { class: 'GenericError', desc: 'disk is full' } },
    );
    const q = await Qmp.connect(sock);
    await expect(resume(q, 50)).rejects.toThrow(/did not run again within 50 ms \(status io-error; cont: QMP: disk is full\)/);
    q.close();
  });
});
