import fs from 'node:fs';
import path from 'node:path';
import { createApiClient } from '@/lib/api-client';
import type { ChainStep, StepNode } from '@/lib/contracts/steps';
import { ChainError, parseChain } from '@/lib/steps/chain';
import { parseChainFile } from '@/lib/steps/chain-file';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

function api() {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

/** Local files a chain reads become part of its arguments (so their content is in the cache key): `file PATH @LOCAL`, `sh SCRIPT_FILE`. */
function readLocal(steps: ChainStep[], dir = '.'): ChainStep[] {
  return steps.map((s) => {
    if (s.step === 'file' && typeof s.args.content === 'string' && s.args.content.startsWith('@')) {
      const f = path.resolve(dir, s.args.content.slice(1));
      if (!fs.existsSync(f)) throw new CliError(`file: no local file ${f}`, 2);
      return { ...s, args: { ...s.args, content: fs.readFileSync(f, 'utf8') } };
    }
    const script = typeof s.args.script === 'string' && !/\s/.test(s.args.script) ? path.resolve(dir, s.args.script) : null;
    if (s.step === 'sh' && script && fs.existsSync(script)) {
      return { ...s, args: { ...s.args, script: fs.readFileSync(script, 'utf8') } };
    }
    return s;
  });
}

/**
 * hangar build CHAIN | -f CHAIN.yaml [--name NAME] [--transient]: `hangar build debian-12 + apt nginx + exec -- nginx -v`.
 * The deepest cached prefix is restored, the rest run and are cached; prints the machine's name.
 */
export async function build(argv: string[], json: boolean): Promise<void> {
  const words: string[] = [];
  let name: string | undefined;
  let file: string | undefined;
  let transient = false;
  for (let i = 0; i < argv.length; i++) {
    // Options only before the chain's first `--` (an exec step's own words may look like options).
    if (!words.includes('--') && argv[i] === '--name') name = argv[++i];
    else if (!words.includes('--') && (argv[i] === '-f' || argv[i] === '--file')) file = argv[++i];
    else if (!words.includes('--') && argv[i] === '--transient') transient = true;
    else words.push(argv[i]);
  }
  if (words.length === 0 && !file) throw new CliError('Usage: hangar build BASE [+ STEP ARGS...]... | -f CHAIN.yaml   [--name NAME] [--transient]   e.g. hangar build busybox + file /etc/motd hello + exec -- cat /etc/motd', 2);
  if (file && words.length) throw new CliError('Give a chain on the command line or a chain file (-f), not both.', 2);
  let body: { steps: ChainStep[] } | { chain: string };
  try {
    if (file && !fs.existsSync(file)) throw new CliError(`No chain file ${file}.`, 2);
    body = { steps: file ? readLocal(await parseChainFile(fs.readFileSync(file, 'utf8')), path.dirname(file)) : readLocal(parseChain(words)) };
  } catch (err) {
    // A step this CLI does not know may be a user step of the server's: it parses the chain then.
    if (err instanceof ChainError && !file && err.message.startsWith('Unknown step')) body = { chain: words.map((w) => (w === '+' ? w : `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(' ') };
    else if (err instanceof ChainError) throw new CliError(file ? `${file}: ${err.message}` : err.message, 2);
    else throw err;
  }
  const client = api();
  const done = await followJob(client, await client.steps.build({ ...body, name, transient }), json);
  const r = done.result as { machine: string; hits: number; ran: number };
  if (json) printJson(r);
  else console.log(`${r.machine}: ${r.hits} step${r.hits === 1 ? '' : 's'} from the cache, ${r.ran} run.`);
}

/** hangar steps [rm KEY]: the step cache as a tree. */
export async function steps(argv: string[], json: boolean): Promise<void> {
  const client = api();
  if (argv[0] === 'rm') {
    if (!argv[1]) throw new CliError('Usage: hangar steps rm KEY', 2);
    const nodes = (await client.steps.nodes()).items;
    const node = nodes.find((n) => n.key.startsWith(argv[1]));
    if (!node) throw new CliError(`No cached step ${argv[1]}.`);
    const r = await client.steps.invalidate(node.key);
    return json ? printJson(r) : console.log(`Invalidated ${r.removed} cached step${r.removed === 1 ? '' : 's'}.`);
  }
  const nodes = (await client.steps.nodes()).items;
  if (json) return printJson(nodes);
  if (nodes.length === 0) return console.log('No cached steps. Build a chain: hangar build busybox + exec -- true');
  const kids = new Map<string | null, StepNode[]>();
  for (const n of nodes) kids.set(n.parentKey, [...(kids.get(n.parentKey) ?? []), n]);
  const show = (parent: string | null, depth: number) => {
    for (const n of kids.get(parent) ?? []) {
      const args = JSON.stringify(n.args);
      console.log(`${'  '.repeat(depth)}${n.key.slice(0, 12)}  ${n.step} ${args.length > 60 ? `${args.slice(0, 57)}...` : args}  [${n.hits} hits, saves ${(n.durationMs / 1000).toFixed(1)} s]`);
      show(n.key, depth + 1);
    }
  };
  show(null, 0);
}
