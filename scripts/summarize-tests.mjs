// Sums vitest and Playwright JSON reports into the closing line CI reads: "N passed, N failed".
// A tier that produced no report (crashed, or typecheck/lint) counts as one failure.
import fs from 'node:fs';
import path from 'node:path';

const [dir, ...failedTiers] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const read = (f) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  } catch {
    return null;
  }
};
// The integration tier writes one report per lane (scripts/test-integration.sh).
const reports = { unit: ['unit.json'], integration: ['integration.json', 'integration-2.json'], e2e: ['e2e.json'] };
for (const file of [...reports.unit, ...reports.integration]) {
  const r = read(file);
  if (!r) continue;
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A file that failed with no failed test (it did not load, or a beforeAll or afterAll threw: its tests are
  // skipped or passed) counts as one failure, so the closing line never says 0 failed for a failed tier.
  failed += r.testResults.filter((t) => t.status === 'failed' && !t.assertionResults.some((a) => a.status === 'failed')).length;
}
const e2e = read('e2e.json');
if (e2e) {
  passed += e2e.stats.expected + e2e.stats.flaky;
  failed += e2e.stats.unexpected;
}
for (const tier of failedTiers) {
  const hasReport = tier in reports && reports[tier].every((f) => read(f));
  if (!hasReport) failed += 1;
}
if (failedTiers.length) console.log(`\nFailed tiers: ${failedTiers.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || failedTiers.length ? 1 : 0);
