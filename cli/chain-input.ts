import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ChainStep } from '@/lib/contracts/steps';
import { findStep } from '@/lib/steps/catalog';
import { ChainError, parseChain, parseSteps, type FindStep } from '@/lib/steps/chain';
import { parseChainFile } from '@/lib/steps/chain-file';
import { chainFromValue } from '@/lib/steps/chain-value';
import { CliError } from './output';

/**
 * A directory as a gzipped tar whose bytes depend on the files alone (names sorted, times,
 * owners and the gzip header fixed): the same tree gives the same cache key.
 */
function packDir(dir: string): string {
  const tar = spawnSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '-C', dir, '.'], {
    maxBuffer: 64 * 2 ** 20,
  });
  if (tar.status !== 0) throw new CliError(`file: cannot pack ${dir}: ${tar.stderr?.toString().trim() || tar.error?.message}`);
  const b64 = gzipSync(tar.stdout, { level: 9 }).toString('base64');
  if (b64.length > 960000)
    throw new CliError(`file: ${dir} is ${Math.round(b64.length / 1365)} KiB packed; a chain carries at most 700 KiB (use an apt or sh step to fetch more)`, 2);
  return b64;
}

/** The user's public key for the ssh step when none is given. */
function defaultKey(): string | undefined {
  for (const f of ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub']) {
    const p = path.join(os.homedir(), '.ssh', f);
    if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8').trim();
  }
  return undefined;
}

/**
 * Local files a chain reads become part of its arguments (so their content is in the cache key):
 * `file PATH @LOCAL` (a file or a directory), `sh SCRIPT_FILE`, `ansible-playbook @site.yml`.
 */
export function readLocal(steps: ChainStep[], dir = '.'): ChainStep[] {
  return steps.map((s) => {
    const at = (v: unknown) => (typeof v === 'string' && v.startsWith('@') ? path.resolve(dir, v.slice(1)) : null);
    if (s.step === 'file' && at(s.args.content)) {
      const f = at(s.args.content)!;
      if (!fs.existsSync(f)) throw new CliError(`file: no local file ${f}`, 2);
      if (fs.statSync(f).isDirectory()) {
        const { content: _content, ...rest } = s.args;
        return { ...s, args: { ...rest, archive: packDir(f) } };
      }
      return { ...s, args: { ...s.args, content: fs.readFileSync(f, 'utf8') } };
    }
    if (s.step === 'ansible-playbook' && at(s.args.playbook)) {
      const f = at(s.args.playbook)!;
      if (!fs.existsSync(f)) throw new CliError(`ansible-playbook: no local file ${f}`, 2);
      return { ...s, args: { ...s.args, playbook: fs.readFileSync(f, 'utf8') } };
    }
    const script = typeof s.args.script === 'string' && !/\s/.test(s.args.script) ? path.resolve(dir, s.args.script) : null;
    if (s.step === 'sh' && script && fs.existsSync(script)) return { ...s, args: { ...s.args, script: fs.readFileSync(script, 'utf8') } };
    return s;
  });
}

/** A TypeScript (or JavaScript) recipe: bundled with esbuild (it may import helpers next to it), run, its default export read. */
async function tsRecipe(file: string): Promise<unknown> {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [file], bundle: true, write: false, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' }).catch(
    (err: { errors?: { text: string; location?: { line: number; column: number } }[] }) => {
      const e = err.errors?.[0];
      throw new CliError(`${file}: ${e ? `${e.text}${e.location ? ` (line ${e.location.line}, column ${e.location.column + 1})` : ''}` : String(err)}`, 2);
    },
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-recipe-'));
  try {
    const js = path.join(tmp, 'recipe.mjs');
    fs.writeFileSync(js, out.outputFiles[0].text);
    const mod = (await import(pathToFileURL(js).href)) as { default?: unknown };
    return typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The catalog as this CLI reads it: the ssh step's key words may name a local key file
 * (`ssh @~/.ssh/id.pub`), and with no key it offers the user's own (its text is then in the key).
 */
function cliFind(dir: string): FindStep {
  return (name) => {
    const spec = findStep(name);
    if (name !== 'ssh' || !spec) return spec;
    return {
      ...spec,
      fromWords: (w: string[]) => {
        const args = spec.fromWords(w) as { user?: string; key?: string };
        if (args.key?.startsWith('@')) {
          const f = path.resolve(dir, args.key.slice(1).replace(/^~(?=\/)/, os.homedir()));
          if (!fs.existsSync(f)) throw new CliError(`ssh: no key file ${f}`, 2);
          return { ...args, key: fs.readFileSync(f, 'utf8').trim() };
        }
        const key = args.key ?? defaultKey();
        return { ...args, ...(key ? { key } : {}) };
      },
    };
  };
}

/**
 * A chain from the command line's words or a chain file (YAML, or a TypeScript recipe), local
 * files read in. A step this CLI does not know may be a user step of the server's: the words
 * then go as text and the server parses them.
 */
export async function chainBody(words: string[], file?: string, stepsOnly = false): Promise<{ steps: ChainStep[] } | { chain: string }> {
  if (file && words.length) throw new CliError('Give a chain on the command line or a chain file (-f), not both.', 2);
  if (file && stepsOnly) throw new CliError('Steps for an existing machine (--on) are given on the command line, not in a chain file.', 2);
  try {
    if (stepsOnly) return { steps: readLocal(parseSteps(words, cliFind('.'))) };
    if (file) {
      if (!fs.existsSync(file)) throw new CliError(`No chain file ${file}.`, 2);
      const steps = /\.(ts|mts|js|mjs)$/.test(file)
        ? chainFromValue(await tsRecipe(file), cliFind(path.dirname(file)), true)
        : await parseChainFile(fs.readFileSync(file, 'utf8'), cliFind(path.dirname(file)), true);
      return { steps: readLocal(steps, path.dirname(file)) };
    }
    return { steps: readLocal(parseChain(words, cliFind('.'))) };
  } catch (err) {
    if (err instanceof ChainError && !file && err.message.startsWith('Unknown step'))
      return { chain: words.map((w) => (w === '+' ? w : `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(' ') };
    if (err instanceof ChainError) throw new CliError(file ? `${file}: ${err.message}` : err.message, 2);
    throw err;
  }
}
