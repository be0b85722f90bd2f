// No source line over 160 characters (Prettier wraps code at 160 but leaves long strings and comments alone).
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const MAX = 160;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.tsx', '*.js', '*.mjs'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('db/migrations/') && f !== 'sdk/src/openapi.ts' && fs.existsSync(f));
let bad = 0;
for (const f of files) {
  fs.readFileSync(f, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if ([...line].length > MAX) {
        bad++;
        console.error(`${f}:${i + 1}: ${[...line].length} characters (at most ${MAX})`);
      }
    });
}
if (bad) process.exit(1);
console.log(`${files.length} files, no line over ${MAX} characters`);
