import { describe, expect, it } from 'vitest';
import { adminToken, client, removeDataDir, startServer, until } from './harness';

describe('server restart', () => {
  it('keeps users and jobs, fails jobs it could not finish, and stops cleanly on Ctrl-C (SIGINT)', async () => {
    const first = await startServer();
    await until(() => /First run: created user "admin"/.test(first.output()), 'the first-run message');
    const token = await adminToken(first.url);
    const api = client(first.url, token);
    const done = await api.jobs.demo({ seconds: 0.1, steps: 1 });
    const unfinished = await api.jobs.demo({ seconds: 600, steps: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    expect(await first.stop('SIGINT')).toBe(0); // what Ctrl-C sends
    expect(Date.now() - t0).toBeLessThan(5000);

    const second = await startServer({ dataDir: first.dataDir });
    try {
      expect(second.output()).not.toMatch(/First run/);
      const again = client(second.url, token);
      expect((await again.jobs.get(done.id)).state).toBe('succeeded');
      const lost = await again.jobs.get(unfinished.id);
      expect(lost.state).toBe('failed');
      expect(lost.error).toMatch(/server stopped/);
    } finally {
      await second.stop();
      removeDataDir(first.dataDir);
    }
  });
});
