import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { probeReportSchema } from '@/lib/contracts/probes';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

/**
 * hangar probe --image debian-12 --package NAME|FILE.deb [--package ...] [--check-unit UNIT] [--check-network URL]:
 * install into a throwaway container, check, print the report, remove everything. Exit 0 when it passed.
 */
export async function probe(argv: string[], json: boolean): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      image: { type: 'string', default: 'debian-12' },
      package: { type: 'string', multiple: true },
      'check-unit': { type: 'string' },
      'check-network': { type: 'string' },
    },
  });
  if (!values.package?.length)
    throw new CliError('Usage: hangar probe [--image debian-12] --package NAME|FILE.deb [--package ...] [--check-unit UNIT] [--check-network URL]', 2);
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  // A path to a .deb (or any existing file) is uploaded; anything else is a package name from the mirror.
  const isFile = (p: string) => p.endsWith('.deb') || p.includes('/') || fs.existsSync(p);
  const uploads: string[] = [];
  for (const file of values.package.filter(isFile)) {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`--package ${file}: no such file.`, 2);
    const up = await api.probes.upload(Readable.toWeb(fs.createReadStream(file)) as ReadableStream);
    if (!json) process.stderr.write(`uploaded ${file}: ${up.package} ${up.version} (${up.architecture})\n`);
    uploads.push(up.id);
  }
  const job = await api.probes.start({
    image: values.image,
    packages: values.package.filter((p) => !isFile(p)),
    uploads,
    checkUnit: values['check-unit'],
    checkNetwork: values['check-network'],
  });
  const done = await followJob(api, job, json);
  const r = probeReportSchema.parse(done.result);
  if (json) printJson(r);
  else {
    console.log(`${r.ok ? 'PASSED' : 'FAILED'} on ${r.image} in ${r.durationS} s`);
    for (const x of r.packages) console.log(`  package ${x.name}: ${x.version ?? 'not installed'}`);
    if (r.unit) console.log(`  unit ${r.unit.name}: ${r.unit.state}`);
    if (r.network) console.log(`  ${r.network.url}: ${r.network.status ?? r.network.error}`);
  }
  return r.ok ? 0 : 1;
}
