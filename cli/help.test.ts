import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELP, helpFor } from './help';

describe('hangar VERB --help', () => {
  it("gives one command's usage lines with their continuations, by its name or alias, and null for what is no command", () => {
    expect(helpFor('fork')).toMatch(/^Usage:\n {2}hangar fork SNAP\|NAME .*\n[^]*\n\nGlobal: --json/);
    // A line naming several commands, and one a continuation follows.
    expect(helpFor('stop')).toContain('hangar start|stop|restart|pause|resume NAME...');
    expect(helpFor('images')).toContain('.tar.xz, .tar.zst) as image N');
    expect(helpFor('images')).not.toContain('hangar pull');
    expect(helpFor('snapshot')).toContain('hangar snapshot export SNAP');
    expect(helpFor('snapshot')).toContain('hangar snapshots [--limit N');
    expect(helpFor('schedules')).toContain('hangar schedule [ls [MACHINE]');
    expect(helpFor('nosuch')).toBeNull();
    // Only command names (and their aliases): not a plural or singular that is none.
    for (const none of ['image', 'p', 'user', 'log', 'tags', 'restores']) expect(helpFor(none), none).toBeNull();
    expect(helpFor('serve')).toContain('hangar up [--host H]');
    // fork's notes on SNAP are fork's (and restore's), not move's.
    expect(helpFor('fork')).toContain('fork REF reads REF as a snapshot id');
    expect(helpFor('move')).not.toContain('SNAP:');
    // Every command in the help is found by its own name.
    for (const line of HELP.split('\n').filter((l) => l.startsWith('  hangar '))) {
      for (const name of /^ {2}hangar ([a-z][a-z|-]*)/.exec(line)![1].split('|')) expect(helpFor(name), name).toContain(line);
    }
  });

  it('is answered by the CLI without a server, exit 0; an unknown command with --help is still unknown (exit 2)', () => {
    const cli = (...args: string[]) =>
      spawnSync(path.join('node_modules', '.bin', 'tsx'), ['cli/main.ts', ...args], {
        encoding: 'utf8',
        env: { ...process.env, HANGAR_URL: 'http://127.0.0.1:1', HANGAR_TOKEN: '' },
        timeout: 60_000,
      });
    const rm = cli('rm', '--help');
    expect(rm.status).toBe(0);
    expect(rm.stdout).toContain('hangar rm NAME...');
    expect(cli('help', 'restore').stdout).toContain('hangar restore SNAP');
    expect(cli('--version').stdout).toMatch(/^hangar \d+\.\d+\.\d+/);
    const unknown = cli('nosuch', '-h');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "nosuch"');
    expect(cli('help', 'nosuch').status).toBe(2);
    // Only right after the command: later, -h is a guest command's own (here it reaches for the server, which is not there).
    const later = cli('exec', 'vm', 'ls', '-h');
    expect(later.status).toBe(1);
    expect(later.stderr).toContain('Cannot reach Hangar');
    // An option without -- would be the guest's command: refused before anything is sent.
    expect(cli('exec', 'vm', '--timeout', '5', 'true')).toMatchObject({ status: 2, stderr: expect.stringContaining('Options go before --') });
  });
});
