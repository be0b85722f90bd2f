import fs from 'node:fs';
import path from 'node:path';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** One-line format: `deb [options] URI SUITE [COMPONENT...]`. */
function parseList(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line.startsWith('deb ') && !line.startsWith('deb\t')) continue;
    const words = line
      .slice(3)
      .replace(/\[[^\]]*\]/, ' ')
      .trim()
      .split(/\s+/);
    if (words.length >= 2) out.push({ uri: words[0], suites: [words[1]], components: words.slice(2) });
  }
  return out;
}

/** deb822 format (`*.sources`): paragraphs of `Field: value` separated by blank lines. */
function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const raw of para.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last) fields.set(last, `${fields.get(last)} ${raw.trim()}`);
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set((last = m[1].toLowerCase()), m[2].trim());
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    for (const uri of words('uris')) out.push({ uri, suites: words('suites'), components: words('components') });
  }
  return out;
}

export function parseAptSources(files: { name: string; text: string }[]): AptSource[] {
  return files.flatMap((f) => (f.name.endsWith('.sources') ? parseDeb822(f.text) : f.name.endsWith('.list') ? parseList(f.text) : []));
}

/** The archive to bootstrap `suite` from: the first source that carries the suite itself (not -security or -updates). */
export function mirrorFor(sources: AptSource[], suite: string): string | null {
  return sources.find((s) => s.suites.includes(suite) && /^(https?|file):\/\//.test(s.uri))?.uri.replace(/\/+$/, '') ?? null;
}

/** The host's apt sources, as apt reads them: sources.list plus sources.list.d/*.list and *.sources (other names are ignored). */
export function readHostAptSources(etc = '/etc/apt'): AptSource[] {
  const files: { name: string; text: string }[] = [];
  const read = (p: string) => {
    try {
      files.push({ name: p, text: fs.readFileSync(p, 'utf8') });
    } catch {
      // absent: fine
    }
  };
  read(path.join(etc, 'sources.list'));
  const dir = path.join(etc, 'sources.list.d');
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const n of names) if (n.endsWith('.list') || n.endsWith('.sources')) read(path.join(dir, n));
  return parseAptSources(files);
}
