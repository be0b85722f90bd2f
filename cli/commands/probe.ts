import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { probeMatrixSchema, probeReportSchema } from '@/lib/contracts/probes';
import { formatMatrix } from '@/lib/probe-matrix';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';
import { imageFor } from './pull';

const USAGE = 'Usage: hangar probe [--image debian-12|REF] [--image ...] --package NAME|FILE.deb [--package ...] [--check-unit UNIT] [--check-network URL]';

/**
 * hangar probe --image debian-12 [--image REF ...] --package NAME|FILE.deb [--package ...] [--check-unit UNIT] [--check-network URL]:
 * install into a throwaway container, check, print the report, remove everything. Exit 0 when it passed. Several images
 * (a registry ref is pulled first): the probe runs on each in parallel and prints a matrix of image × check.
 */
export async function probe(argv: string[], json: boolean): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      image: { type: 'string', multiple: true, default: ['debian-12'] },
      package: { type: 'string', multiple: true },
      'check-unit': { type: 'string' },
      'check-network': { type: 'string' },
    },
  });
  if (!values.package?.length) throw new CliError(USAGE, 2);
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const images: string[] = [];
  for (const ref of values.image) images.push(await imageFor(api, ref));
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
    ...(images.length > 1 ? { images } : { image: images[0] }),
    packages: values.package.filter((p) => !isFile(p)),
    uploads,
    checkUnit: values['check-unit'],
    checkNetwork: values['check-network'],
  });
  const done = await followJob(api, job, json);
  if (images.length > 1) {
    const m = probeMatrixSchema.parse(done.result);
    if (json) printJson(m);
    else
      console.log(`${m.ok ? 'PASSED' : 'FAILED'} on ${m.rows.filter((r) => r.ok).length} of ${m.rows.length} images in ${m.durationS} s\n${formatMatrix(m)}`);
    return m.ok ? 0 : 1;
  }
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
