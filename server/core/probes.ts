import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import { probeBodySchema, uploadedPackageSchema, type ProbeBody, type ProbeMatrix, type ProbeReport, type UploadedPackage } from '@/lib/contracts/probes';
import { firstLine, run } from '@/server/drivers/exec';
import { OCI_KEEPALIVE } from '@/server/drivers/oci/bundle';
import type { Principal } from './auth';
import { BadRequestError, ConflictError, NotFoundError } from './errors';
import { newId } from './ids';
import type { JobContext, JobRunner } from './jobs';
import type { MachineService } from './machines';
import { failedRow, probeChecks, rowOf } from '@/lib/probe-matrix';

/**
 * Package probes: a throwaway nspawn container on the host network (apt reaches the image's
 * mirror, the service answers on the host), the packages installed, the unit and the URL
 * checked, a report as the job's result, and the container removed whatever happened.
 */
export class ProbeService {
  constructor(
    private readonly jobs: JobRunner,
    private readonly machines: MachineService,
    /** Where uploaded .deb files wait for their probe (under the data dir). */
    private readonly uploadDir: string,
    /** An image's kind by name (`oci`: its container waits while the probe execs into it, instead of running its entrypoint). */
    private readonly kindOf: (image: string) => Promise<string | null> = () => Promise.resolve(null),
  ) {}

  /** A file for an upload to be saved to (the route streams the body there, then calls `register`). */
  newUploadFile(): { id: string; file: string } {
    fs.mkdirSync(this.uploadDir, { recursive: true, mode: 0o700 });
    const id = newId('upl');
    return { id, file: path.join(this.uploadDir, `${id}.deb`) };
  }

  /** An uploaded file that dpkg-deb reads as a binary package; anything else is refused and removed. */
  async register(id: string, file: string): Promise<UploadedPackage> {
    this.expireUploads();
    const r = await run(['dpkg-deb', '--field', file, 'Package', 'Version', 'Architecture'], { timeoutMs: 30_000 });
    const f = Object.fromEntries(
      r.stdout
        .split('\n')
        .map((l) => l.split(': '))
        .filter((kv) => kv.length === 2),
    ) as Record<string, string>;
    if (r.code !== 0 || !f.Package || !/^[a-z0-9][a-z0-9+.-]{0,99}$/.test(f.Package)) {
      fs.rmSync(file, { force: true });
      throw new BadRequestError(`Not a Debian binary package: ${firstLine(r.stderr) || 'no Package field'}`);
    }
    const up = { id, package: f.Package, version: f.Version ?? '', architecture: f.Architecture ?? '', sizeBytes: fs.statSync(file).size };
    // What dpkg-deb read, kept next to the file: a probe of it reads this instead of asking again.
    fs.writeFileSync(this.metaFile(id), JSON.stringify(up), { mode: 0o600 });
    return up;
  }

  private metaFile(id: string): string {
    return path.join(this.uploadDir, `${id}.json`);
  }

  /** Uploads nobody probed within an hour go. */
  private expireUploads(): void {
    try {
      for (const e of fs.readdirSync(this.uploadDir)) {
        const f = path.join(this.uploadDir, e);
        if (Date.now() - fs.statSync(f).mtimeMs > 3600_000) fs.rmSync(f, { force: true });
      }
    } catch {
      // no uploads yet
    }
  }

  async start(p: Principal, input: ProbeBody): Promise<Job> {
    const body = probeBodySchema.parse(input);
    const uploads = body.uploads.map((id) => this.uploaded(id));
    const names = [...body.packages, ...uploads.map((u) => u.package)];
    if (body.images) {
      const images = [...new Set(body.images)];
      const title = `Probe ${names.join(' ')} on ${images.join(', ')}`;
      const { job } = await this.jobs.start({ kind: 'probe', title, ownerId: p.user.id }, (ctx) => this.matrix(p, body, images, uploads, ctx));
      return job;
    }
    const { job } = await this.jobs.start({ kind: 'probe', title: `Probe ${names.join(' ')} on ${body.image}`, ownerId: p.user.id }, (ctx) =>
      this.run(p, body, uploads, ctx),
    );
    return job;
  }

  /** postroj's selftest: the probe on each image in parallel (each in its own throwaway container), a matrix of image × check. */
  private async matrix(
    p: Principal,
    body: ReturnType<typeof probeBodySchema.parse>,
    images: string[],
    uploads: (UploadedPackage & { file: string })[],
    ctx: JobContext,
  ): Promise<ProbeMatrix> {
    const t0 = performance.now();
    const checks = probeChecks([...body.packages, ...uploads.map((u) => u.package)], body.checkUnit, body.checkNetwork);
    const rows = await Promise.all(
      images.map((image) => {
        const sub: JobContext = { jobId: ctx.jobId, signal: ctx.signal, progress: () => undefined, log: (l) => ctx.log(`[${image}] ${l}`) };
        return this.run(p, { ...body, image }, uploads, sub).then(
          (r) => rowOf(image, checks, r),
          (err: Error) => (sub.log(`probe failed: ${err.message}`), failedRow(image, checks, err.message)),
        );
      }),
    );
    for (const r of rows) ctx.log(`${r.image}: ${r.ok ? 'passed' : 'FAILED'}`);
    ctx.progress(100, `${rows.filter((r) => r.ok).length} of ${rows.length} images passed`);
    return { ok: rows.every((r) => r.ok), checks, rows, durationS: Math.round((performance.now() - t0) / 100) / 10 };
  }

  /** An upload by id, with what its package says. */
  private uploaded(id: string): UploadedPackage & { file: string } {
    const file = path.join(this.uploadDir, `${id}.deb`);
    if (!/^upl_[a-z0-9]+$/.test(id) || !fs.existsSync(file) || !fs.existsSync(this.metaFile(id))) throw new NotFoundError(`Upload ${id}`);
    return { ...uploadedPackageSchema.parse(JSON.parse(fs.readFileSync(this.metaFile(id), 'utf8'))), file };
  }

  private async run(
    p: Principal,
    body: ReturnType<typeof probeBodySchema.parse>,
    uploads: (UploadedPackage & { file: string })[],
    ctx: JobContext,
  ): Promise<ProbeReport> {
    const t0 = performance.now();
    const name = `probe-${randomBytes(4).toString('hex')}`;
    ctx.progress(5, `Starting container ${name}`);
    const oci = (await this.kindOf(body.image)) === 'oci';
    // Made stopped first: uploaded packages go into its writable layer before the overlay is mounted.
    const created = await this.machines.create(p, {
      ...(oci ? { entrypoint: OCI_KEEPALIVE } : {}),
      name,
      image: body.image,
      driver: 'nspawn',
      network: 'host',
      cpus: 1,
      memoryMib: 512,
      diskGib: 2,
      ports: [],
      tags: ['probe'],
      start: uploads.length === 0,
    });
    const files: string[] = [];
    try {
      const made = await this.jobs.waitFor(created, ctx);
      if (uploads.length) {
        const { row, spec } = await this.machines.spec((made.result as { machine: string }).machine);
        const driver = this.machines.driver(row.driver);
        if (!driver.addFiles) throw new ConflictError(`The ${row.driver} driver cannot take files into a stopped machine.`);
        // Named by upload id: the file name a user gave never reaches the container's shell.
        files.push(
          ...driver.addFiles(
            spec,
            uploads.map((u) => ({ from: u.file, to: `/root/hangar-probe/${u.id}.deb` })),
          ),
        );
        for (const u of uploads) {
          fs.rmSync(this.metaFile(u.id), { force: true });
          ctx.log(`uploaded ${u.package} ${u.version} (${u.architecture})`);
        }
        await this.jobs.waitFor(await this.machines.act(p, name, 'start'), ctx);
      }
      const sh = async (script: string, timeoutS: number) => {
        const r = await this.machines.exec(p, name, { argv: ['sh', '-c', script], timeoutS });
        for (const line of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean).slice(-40)) ctx.log(line);
        return r;
      };
      const names = [...body.packages, ...uploads.map((u) => u.package)];
      // An image without apt-get (busybox, Alpine) installs no Debian package: the report says so, the other checks still run.
      const apt = (await this.machines.exec(p, name, { argv: ['sh', '-c', 'command -v apt-get'], timeoutS: 30 })).code === 0;
      let error: string | null = apt ? null : 'no apt-get in this image';
      if (apt) {
        ctx.progress(20, 'apt-get update');
        const upd = await sh('apt-get update -q > /tmp/probe-apt.log 2>&1; rc=$?; tail -5 /tmp/probe-apt.log; exit $rc', 600);
        if (upd.code !== 0) throw new Error('apt-get update failed in the container: see the log');
        ctx.progress(45, `Installing ${names.join(' ')}`);
        // Package names are checked by the schema ([a-z0-9+.-]) and files are named by upload id: safe as words of this script.
        const inst = await sh(
          `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ` +
            `${[...body.packages, ...files].join(' ')} > /tmp/probe-apt.log 2>&1; rc=$?; tail -15 ` +
            `/tmp/probe-apt.log; exit $rc`,
          1800,
        );
        if (inst.code !== 0) error = 'apt-get install failed';
      }
      const versions = apt
        ? await this.machines.exec(p, name, { argv: ['dpkg-query', '-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\\n', ...names], timeoutS: 30 })
        : { stdout: '' };
      const packages = names.map((n) => {
        const line = versions.stdout.split('\n').find((l) => l.startsWith(`${n} `));
        const [, version, status] = line?.split(' ') ?? [];
        return { name: n, version: status === 'ii' ? version : null };
      });
      if (error && packages.some((x) => !x.version)) ctx.log(`warning: ${error}`);
      else error = null;
      let unit: ProbeReport['unit'] = null;
      if (body.checkUnit) {
        ctx.progress(75, `Checking unit ${body.checkUnit}`);
        const u = await this.machines.exec(p, name, {
          // No systemd running (an application container): no unit can be active, said at once.
          argv: [
            'sh',
            '-c',
            '[ -d /run/systemd/system ] || { echo "no systemd running"; exit 0; }; for i in $(seq 30); do s=$(systemctl is-active "$1"); ' +
              '[ "$s" = active ] && break; sleep 1; done; echo "$s"',
            'x',
            body.checkUnit,
          ],
          timeoutS: 60,
        });
        const state = u.stdout.trim() || 'unknown';
        unit = { name: body.checkUnit, state, ok: state === 'active' };
      }
      let network: ProbeReport['network'] = null;
      if (body.checkNetwork) {
        ctx.progress(85, `Checking ${body.checkNetwork}`);
        network = await answers(body.checkNetwork);
      }
      const report: ProbeReport = {
        ok: packages.every((x) => x.version) && (unit?.ok ?? true) && (network?.ok ?? true),
        image: body.image,
        packages,
        unit,
        network,
        error,
        durationS: Math.round((performance.now() - t0) / 100) / 10,
      };
      ctx.log(
        `probe ${report.ok ? 'passed' : 'FAILED'}: ` +
          packages.map((x) => `${x.name} ${x.version ?? 'not installed'}`).join(', ') +
          (unit ? `; ${unit.name} ${unit.state}` : '') +
          (network ? `; ${network.url} ${network.status ?? network.error}` : ''),
      );
      return report;
    } finally {
      ctx.progress(95, `Removing ${name}`);
      await this.machines
        .destroy(p, name)
        .then((j) => this.jobs.waitFor(j, ctx))
        .catch((err: Error) => ctx.log(`warning: could not remove ${name}: ${err.message}`));
    }
  }
}

/** The URL answers from the host with 2xx or 3xx within a few tries (the service may still be starting). */
async function answers(url: string): Promise<NonNullable<ProbeReport['network']>> {
  let last: { status: number | null; error: string | null } = { status: null, error: 'no answer' };
  for (let i = 0; i < 10; i++) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      last = { status: res.status, error: null };
      if (res.status < 400) break;
    } catch (err) {
      last = { status: null, error: (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { url, ...last, ok: last.status !== null && last.status < 400 };
}
