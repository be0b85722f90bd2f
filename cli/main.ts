import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, describeError } from './output';
import { loadConfig } from './config';
import { HELP, helpFor } from './help';

/** `hangar up` runs the server in this process: the bundled dist/server.js, or the sources under tsx. */
async function up(argv: string[]): Promise<void> {
  // Computed paths keep esbuild from bundling the server (and its heavy imports) into the CLI.
  const bundled = fileURLToPath(new URL('./server.js', import.meta.url));
  const entry = fs.existsSync(bundled) ? bundled : fileURLToPath(new URL('../server/entry.ts', import.meta.url));
  const mod: { main: (a: string[]) => Promise<void> } = await import(entry);
  await mod.main(argv);
}

/** The certificate check, loaded only for a pinned or CA-verified https:// server (node:https and node:tls are not small). */
let trust: typeof import('./tls-trust') | undefined;

/**
 * Each command's module is imported when that command runs (one chunk each in dist/, see
 * scripts/build-server.mjs): a start-up reads and evaluates only what its command needs.
 */
export async function run(argv: string[]): Promise<number> {
  // Global flags stop at `--`: what follows belongs to a guest command (hangar exec NAME -- CMD --json).
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const json = argv.slice(0, end).includes('--json');
  const args = [...argv.slice(0, end).filter((a) => a !== '--json'), ...argv.slice(end)];
  const [cmd, ...rest] = args;
  // `hangar VERB --help` (or -h) right after the command: its usage, before anything is sent anywhere. Only there:
  // later, -h may be a guest command's own (hangar exec NAME ls -h) or a tag (hangar tag NAME -h).
  const usage = cmd && cmd !== 'help' && (rest[0] === '--help' || rest[0] === '-h') ? helpFor(cmd) : null;
  if (usage) {
    console.log(usage);
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(`hangar ${pkg.version}`);
    return 0;
  }
  try {
    // A pinned or CA-verified https:// server: every request of this run goes through that check (login sets its own).
    if (cmd !== 'up' && cmd !== 'serve' && cmd !== 'login') {
      const cfg = loadConfig();
      if (cfg.tls && cfg.url.startsWith('https:')) {
        trust = await import('./tls-trust');
        await trust.installTrust(cfg.tls);
      }
    }
    switch (cmd) {
      case 'up':
      case 'serve':
        await up(rest);
        return -1; // keeps running until a signal
      case 'login':
        await (await import('./commands/login')).login(rest, json);
        return 0;
      case 'logout':
        await (await import('./commands/login')).logout(json);
        return 0;
      case 'limits':
        await (await import('./commands/limits')).limits(rest, json);
        return 0;
      case 'status':
        await (await import('./commands/status')).status(json);
        return 0;
      case 'jobs':
        await (await import('./commands/status')).jobs(rest, json);
        return 0;
      case 'pull':
        await (await import('./commands/pull')).pullCmd(rest, json);
        return 0;
      case 'registry':
        await (await import('./commands/pull')).registryCmd(rest, json);
        return 0;
      case 'images':
        await (await import('./commands/images')).images(rest, json);
        return 0;
      case 'nodes':
        await (await import('./commands/nodes')).nodes(rest, json);
        return 0;
      case 'isos':
        await (await import('./commands/isos')).isos(rest, json);
        return 0;
      case 'cdrom':
        await (await import('./commands/isos')).cdrom(rest, json);
        return 0;
      case 'ps':
        await (await import('./commands/machines')).ps(rest, json);
        return 0;
      case 'tag':
        await (await import('./commands/machines')).tag(rest, json);
        return 0;
      case 'create':
        await (await import('./commands/machines')).create(rest, json);
        return 0;
      case 'adopt':
        await (await import('./commands/adopt')).adopt(rest, json);
        return 0;
      case 'start':
      case 'stop':
      case 'restart':
      case 'pause':
      case 'resume':
        await (await import('./commands/machines')).act(cmd, rest, json);
        return 0;
      case 'rm':
        return await (await import('./commands/machines')).rm(rest, json);
      case 'exec':
        return await (await import('./commands/machines')).exec(rest, json);
      case 'ssh':
        return await (await import('./commands/terminal')).ssh(rest, json);
      case 'cp':
        await (await import('./commands/files')).cp(rest, json);
        return 0;
      case 'open':
        await (await import('./commands/open')).open(rest, json);
        return 0;
      case 'ansible-inventory':
        await (await import('./commands/ansible')).ansibleInventory(rest);
        return 0;
      case 'console':
        return await (await import('./commands/terminal')).serialConsole(rest);
      case 'keys':
        await (await import('./commands/keys')).keys(rest, json);
        return 0;
      case 'ssh-config':
        await (await import('./commands/ssh-tunnel')).sshConfig(rest);
        return 0;
      case 'run':
        return await (await import('./commands/run')).runCmd(rest);
      case 'probe':
        return await (await import('./commands/probe')).probe(rest, json);
      case 'build':
        await (await import('./commands/steps')).build(rest, json);
        return 0;
      case 'steps':
        await (await import('./commands/steps')).steps(rest, json);
        return 0;
      case 'logs':
        await (await import('./commands/machines')).logs(rest, json);
        return 0;
      case 'unit':
        await (await import('./commands/machines')).unit(rest, json);
        return 0;
      case 'checkpoint':
        await (await import('./commands/snapshots')).checkpoint(rest, json);
        return 0;
      case 'snapshots':
        await (await import('./commands/snapshots')).list(rest, json);
        return 0;
      case 'snapshot':
        await (await import('./commands/snapshots')).snapshotCmd(rest, json);
        return 0;
      case 'restore':
        await (await import('./commands/snapshots')).restore(rest, json);
        return 0;
      case 'fork':
        await (await import('./commands/snapshots')).fork(rest, json);
        return 0;
      case 'move':
        await (await import('./commands/move')).move(rest, json);
        return 0;
      case 'gc':
        await (await import('./commands/snapshots')).gc(json);
        return 0;
      case 'diff':
        await (await import('./commands/diff')).diff(rest, json);
        return 0;
      case 'users':
        await (await import('./commands/users')).users(rest, json);
        return 0;
      case 'webhooks':
        await (await import('./commands/webhooks')).webhooks(rest, json);
        return 0;
      case 'schedule':
      case 'schedules':
        await (await import('./commands/schedules')).schedule(rest, json);
        return 0;
      case 'disk':
      case 'disks':
        await (await import('./commands/disks')).disk(rest, json);
        return 0;
      case 'fork-link':
      case 'fork-links':
        await (await import('./commands/fork-links')).forkLink(rest, json);
        return 0;
      case 'undo':
        await (await import('./commands/undo')).undo(rest, json);
        return 0;
      case 'backups':
        await (await import('./commands/backups')).backups(rest, json);
        return 0;
      case 'recordings':
        await (await import('./commands/recordings')).recordings(rest, json);
        return 0;
      case 'backup':
        await (await import('./commands/backups')).backup(rest, json);
        return 0;
      case 'passwd':
        await (await import('./commands/users')).passwd(json);
        return 0;
      case 'audit':
        await (await import('./commands/users')).audit(rest, json);
        return 0;
      case 'help': {
        // `hangar help VERB`: that command's usage.
        const one = rest[0] ? helpFor(rest[0]) : HELP;
        if (!one) throw new CliError(`Unknown command "${rest[0]}". Run \`hangar help\`.`, 2);
        console.log(one);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
        console.log(HELP);
        return 0;
      default:
        throw new CliError(`Unknown command "${cmd}". Run \`hangar help\`.`, 2);
    }
  } catch (caught) {
    // A pinned certificate refused inside fetch: its own loud message and exit code, not "fetch failed".
    const err = trust?.lastRefusal ?? caught;
    if (json) process.stdout.write(JSON.stringify({ error: describeError(err) }) + '\n');
    else console.error(`hangar: ${describeError(err)}`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

const code = await run(process.argv.slice(2));
if (code >= 0) process.exit(code);
