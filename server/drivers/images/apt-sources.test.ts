import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mirrorFor, parseAptSources, readHostAptSources } from './apt-sources';

const DEB822 = `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
`;

describe('apt sources', () => {
  it('reads deb822 and one-line files, skipping disabled entries and deb-src', () => {
    const s = parseAptSources([
      { name: 'debian.sources', text: DEB822 },
      {
        name: 'extra.list',
        text: 'deb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] https://one.example/debian/ trixie main contrib # note\n',
      },
      { name: 'old.list.disabled', text: 'deb http://ignored.example/debian bookworm main' },
    ]);
    expect(s.map((x) => x.uri)).toEqual(['http://mirror.example/debian', 'http://mirror.example/debian-security', 'https://one.example/debian/']);
    expect(mirrorFor(s, 'bookworm')).toBe('http://mirror.example/debian');
    expect(mirrorFor(s, 'trixie')).toBe('https://one.example/debian');
    expect(mirrorFor(s, 'sid')).toBeNull();
  });

  it('reads a directory as apt does (only *.list and *.sources)', () => {
    const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-'));
    fs.mkdirSync(path.join(etc, 'sources.list.d'));
    fs.writeFileSync(path.join(etc, 'sources.list.d', 'a.sources'), DEB822);
    fs.writeFileSync(path.join(etc, 'sources.list.d', 'b.list.disabled-by-farm'), 'deb http://nope.example/debian bookworm main');
    expect(mirrorFor(readHostAptSources(etc), 'bookworm')).toBe('http://mirror.example/debian');
    fs.rmSync(etc, { recursive: true });
  });
});
