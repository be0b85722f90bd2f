import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDriver } from '@/server/drivers/fake/driver';
import type { MachineSpec } from '@/server/drivers/types';
import { consoleTail, waitReady } from './machine-power';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fake machine, running and not ready, whose console log a test writes to. */
async function booting() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-power-'));
  dirs.push(dir);
  const spec: MachineSpec = { id: 'mch_powerwait000000000', name: 'slow', dir, layers: dir, cpus: 1, memoryMib: 128, diskGib: 1, ports: [], runtime: {} };
  const driver = new FakeDriver('qemu');
  await driver.start(spec, {} as never, {} as never);
  driver.ready = false;
  const log = driver.consoleLog(spec);
  const wrote = { at: 0 };
  const write = (line: string) => (fs.appendFileSync(log, line + '\n'), (wrote.at = Date.now()));
  return { driver, spec, write, wrote };
}

const wait = { quietMs: 300, maxMs: 3000, pollMs: 10 };

describe('waitReady', () => {
  it('waits past the quiet time for a guest that goes on writing on its console, and answers once it is ready', async () => {
    const { driver, spec, write } = await booting();
    const talk = setInterval(() => write('[  OK  ] Started something.'), 100);
    setTimeout(() => ((driver.ready = true), clearInterval(talk)), 2500);
    // A second of quiet allowed (ten writes' gap, so a slow turn of the loop is no silence), 2.5 s to boot.
    await expect(waitReady(driver, spec, driver.consoleLog(spec), new AbortController().signal, { ...wait, quietMs: 1000, maxMs: 10_000 })).resolves.toBeNull();
    clearInterval(talk);
  });

  it('gives up on a guest that falls silent for the quiet time, naming it', async () => {
    const { driver, spec, write, wrote } = await booting();
    write('Booting');
    const t0 = Date.now();
    const talk = setInterval(() => write('.'), 100);
    setTimeout(() => clearInterval(talk), 600);
    await expect(waitReady(driver, spec, driver.consoleLog(spec), new AbortController().signal, wait)).rejects.toThrow(/nothing on its console for 0.3 s/);
    // Given up 0.3 s after the last write, not 0.3 s after the start.
    expect(wrote.at - t0).toBeGreaterThanOrEqual(400);
    expect(Date.now() - wrote.at).toBeGreaterThanOrEqual(300);
    clearInterval(talk);
  });

  it('gives up after the whole limit on a guest that writes forever, and on one with no console log at all after the quiet time', async () => {
    const { driver, spec, write } = await booting();
    const talk = setInterval(() => write('reboot loop'), 50);
    await expect(waitReady(driver, spec, driver.consoleLog(spec), new AbortController().signal, { ...wait, quietMs: 5000, maxMs: 800 })).rejects.toThrow(
      /within 0.8 s/,
    );
    clearInterval(talk);
    const silent = await booting();
    await expect(waitReady(silent.driver, silent.spec, silent.driver.consoleLog(silent.spec), new AbortController().signal, wait)).rejects.toThrow(
      /nothing on its console/,
    );
  });

  it('fails a machine that exited during boot, and stops on the signal (a destroy meanwhile)', async () => {
    const { driver, spec } = await booting();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('destroyed')), 50);
    await expect(waitReady(driver, spec, driver.consoleLog(spec), ac.signal, wait)).rejects.toThrow('destroyed');
    await driver.stop(spec, { force: true, timeoutMs: 0 });
    await expect(waitReady(driver, spec, driver.consoleLog(spec), new AbortController().signal, wait)).rejects.toThrow(/exited during boot/);
  });
});

describe('consoleTail', () => {
  it("gives the last lines of a console log as plain text, for the failed boot job's log", async () => {
    const { driver, spec, write } = await booting();
    for (let i = 0; i < 40; i++) write(`line ${i}`);
    write('\x1b[0;1;31mFAILED\x1b[0m Failed to start \x1b]0;title\x07ssh.service.\r');
    write('');
    expect(consoleTail(driver.consoleLog(spec), 0, 3)).toEqual(['line 38', 'line 39', 'FAILED Failed to start ssh.service.']);
    // From where this boot began: an earlier boot's lines are not this one's.
    const log = driver.consoleLog(spec);
    const from = fs.statSync(log).size;
    expect(consoleTail(log, from)).toEqual([]);
    write('this boot');
    expect(consoleTail(log, from)).toEqual(['this boot']);
    expect(consoleTail(path.join(spec.dir, 'none.log'))).toEqual([]);
  });
});
