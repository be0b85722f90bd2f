import { createApiClient } from '@/lib/api-client';
import type { StepNode } from '@/lib/contracts/steps';
import { chainBody } from '../chain-input';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

function api() {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

export interface ChainOptions {
  words: string[];
  name?: string;
  file?: string;
  transient: boolean;
  keep: boolean;
  /** Apply the steps to this existing machine (no base, nothing cached). */
  on?: string;
}

/** Options only before the chain's first `--` (an exec step's own words may look like options). */
export function chainOptions(argv: string[]): ChainOptions {
  const o: ChainOptions = { words: [], transient: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const opt = !o.words.includes('--');
    if (opt && argv[i] === '--name') o.name = argv[++i];
    else if (opt && (argv[i] === '-f' || argv[i] === '--file')) o.file = argv[++i];
    else if (opt && argv[i] === '--transient') o.transient = true;
    else if (opt && argv[i] === '--keep') o.keep = true;
    else if (opt && argv[i] === '--on') o.on = argv[++i];
    else o.words.push(argv[i]);
  }
  return o;
}

/** The deepest cached prefix restored, the rest run and cached; the job followed with its progress. */
export async function buildChain(o: ChainOptions, json: boolean): Promise<{ machine: string; hits: number; ran: number; uncached?: string }> {
  const body = await chainBody(o.words, o.file, !!o.on);
  const client = api();
  const ask = o.on ? { ...body, machine: o.on } : { ...body, name: o.name, transient: o.transient };
  const done = await followJob(client, await client.steps.build(ask), json);
  return done.result as { machine: string; hits: number; ran: number; uncached?: string };
}

/**
 * hangar build CHAIN | -f CHAIN.yaml|CHAIN.ts [--name NAME] [--transient]: `hangar build debian-12 + apt nginx + exec -- nginx -v`.
 * Prints the machine's name.
 */
export async function build(argv: string[], json: boolean): Promise<void> {
  const o = chainOptions(argv);
  if ((o.words.length === 0 && !o.file) || (o.on && (o.name || o.transient)))
    throw new CliError(
      'Usage: hangar build BASE [+ STEP ARGS...]... | -f CHAIN.yaml|CHAIN.ts   [--name NAME] [--transient] ' +
        '  e.g. hangar build busybox + file /etc/motd hello + exec -- cat /etc/motd' +
        ' | hangar build --on MACHINE STEP ARGS [+ STEP ARGS]...   (steps applied to an existing machine, not cached)',
      2,
    );
  const r = await buildChain(o, json);
  if (json) printJson(r);
  else if (r.uncached) console.log(`${r.machine}: ${r.ran} step${r.ran === 1 ? '' : 's'} run, none cached: ${r.uncached}.`);
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
      console.log(
        `${'  '.repeat(depth)}${n.key.slice(0, 12)}  ${n.step} ` +
          `${args.length > 60 ? `${args.slice(0, 57)}...` : args}  [${n.hits} hits, saves ` +
          `${(n.durationMs / 1000).toFixed(1)} s]`,
      );
      show(n.key, depth + 1);
    }
  };
  show(null, 0);
}
