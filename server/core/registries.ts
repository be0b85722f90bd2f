import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '@/db/client';
import { addRegistryRowIfAbsent, deleteRegistryRow, getRegistryRow, listRegistryRows, putRegistryRow, type RegistryRow } from '@/db/repo/registries';
import type { PutRegistryBody, Registry } from '@/lib/contracts/images';
import { checkRegistryHost, RefError } from '@/server/drivers/oci/ref';
import { checkLogin, SkopeoError, type RegistryAccess } from '@/server/drivers/oci/skopeo';
import type { OciPaths } from '@/server/drivers/oci/store';
import { BadRequestError, NotFoundError } from './errors';
import { ociFailure } from './oci-errors';
import { resolveInside } from './paths';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;

/** What a registries.json (before the settings were shared by the nodes) held per host. */
interface FileEntry {
  insecure?: boolean;
  username?: string | null;
  password?: string | null;
}

/** Written whole to a temp file (0600) beside it and renamed; left alone when it already says that. */
function putFile(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    // Not there yet.
  }
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

const authOf = (rows: RegistryRow[]) => ({
  auths: Object.fromEntries(
    rows.filter((r) => r.username && r.password).map((r) => [r.host, { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') }]),
  ),
});

/**
 * Settings -> Registries: per registry, TLS verification (on unless marked insecure), its own CA and credentials.
 * They live in the database, so every node of a cluster reaches a registry the same way: a pull on any node uses
 * the login an admin made on another. Each node writes the files its tools read from the rows before it pulls
 * (skopeo's auth file and a cert dir per CA, 0600 under its data dir, readable by the server only). The API shows
 * whether a password is kept, never the password.
 */
export class RegistryService {
  private timer: NodeJS.Timeout | null = null;
  /** Syncs run one after another, each reading the rows afresh: an older read never writes over a newer one. */
  private syncing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly p: OciPaths,
    private readonly store: Store,
  ) {}

  /** A cluster: this node's files follow what other nodes change (a login, a removal) within `ms`, pull or not. */
  follow(ms: number): void {
    this.timer ??= setInterval(
      () => void this.sync().catch((err: Error) => console.error(`registries: this node's files not brought up to date: ${err.message}`)),
      ms,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private host(raw: string): string {
    try {
      return checkRegistryHost(raw);
    } catch (err) {
      throw new BadRequestError((err as RefError).message, [{ path: 'host', message: 'host or host:port' }]);
    }
  }

  private caDir(host: string): string {
    return resolveInside(this.p.certs, host.replace(/[:[\]]/g, '_'));
  }

  /** This node's files made to match the rows: the auth file, a CA per registry that has one, none for the others. */
  private sync(): Promise<RegistryRow[]> {
    const next = this.syncing.then(() => this.syncNow());
    this.syncing = next.catch(() => undefined);
    return next;
  }

  private async syncNow(): Promise<RegistryRow[]> {
    const rows = await listRegistryRows(this.store);
    putFile(this.p.auth, `${JSON.stringify(authOf(rows), null, 2)}\n`);
    const keep = new Set<string>();
    for (const r of rows) {
      if (!r.ca) continue;
      const dir = this.caDir(r.host);
      keep.add(path.basename(dir));
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      putFile(path.join(dir, 'ca.crt'), r.ca);
    }
    for (const d of fs.existsSync(this.p.certs) ? fs.readdirSync(this.p.certs) : [])
      if (!keep.has(d)) fs.rmSync(path.join(this.p.certs, d), { recursive: true, force: true });
    return rows;
  }

  async list(): Promise<Registry[]> {
    return (await listRegistryRows(this.store)).map((r) => this.view(r));
  }

  private view(r: RegistryRow): Registry {
    return { host: r.host, insecure: r.insecure, username: r.username, hasPassword: !!r.password, hasCa: !!r.ca };
  }

  /** How a pull reaches `host`, and whether credentials go with it; this node's files brought up to date first. */
  async access(host: string): Promise<RegistryAccess & { creds: boolean }> {
    const r = (await this.sync()).find((x) => x.host === host);
    return { insecure: r?.insecure ?? false, certDir: r?.ca ? this.caDir(host) : null, creds: !!(r?.username && r.password) };
  }

  /** A private dir under the data dir's tmp (0700), removed when `fn` ends. */
  private async scratch<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = resolveInside(this.p.tmp, `${prefix}-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      return await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A containers auth file with this registry's credentials alone (none kept: an empty one, so no ambient login is
   * used), 0600, removed when `fn` ends. For tools that pull themselves (podman): the password goes in a file, never
   * on an argv.
   */
  async withAuthFile<T>(host: string, fn: (file: string) => Promise<T>): Promise<T> {
    const r = await getRegistryRow(this.store, host);
    return this.scratch('auth', async (dir) => {
      const file = path.join(dir, 'auth.json');
      fs.writeFileSync(file, `${JSON.stringify(authOf(r ? [r] : []))}\n`, { mode: 0o600 });
      return fn(file);
    });
  }

  /** Set a registry's switch, CA and credentials; new credentials are checked against the registry first. */
  async put(rawHost: string, body: PutRegistryBody): Promise<Registry> {
    const host = this.host(rawHost);
    if ((body.username === undefined) !== (body.password === undefined))
      throw new BadRequestError('Give both a username and a password, or neither.', [
        { path: body.username ? 'password' : 'username', message: 'required with the other' },
      ]);
    if (body.ca && !PEM.test(body.ca)) throw new BadRequestError('The CA is not a PEM certificate.', [{ path: 'ca', message: 'a PEM certificate' }]);
    const prev = await getRegistryRow(this.store, host);
    const next: RegistryRow = {
      host,
      insecure: body.insecure,
      username: body.username ?? prev?.username ?? null,
      password: body.password ?? prev?.password ?? null,
      ca: body.ca === undefined ? (prev?.ca ?? null) : body.ca || null,
      updatedAt: Date.now(),
    };
    if (body.username && body.password) {
      // The login is tried with an auth file and the CA in a dir of their own: nothing is kept from a refused one.
      const { username, password } = body;
      await this.scratch('login', async (dir) => {
        if (next.ca) fs.writeFileSync(path.join(dir, 'ca.crt'), next.ca, { mode: 0o600 });
        try {
          await checkLogin(this.p, host, username, password, { insecure: next.insecure, certDir: next.ca ? dir : null }, path.join(dir, 'auth.json'));
        } catch (err) {
          throw err instanceof SkopeoError ? ociFailure(err) : err;
        }
      });
    }
    await putRegistryRow(this.store, next);
    await this.sync();
    return this.view(next);
  }

  async remove(rawHost: string): Promise<void> {
    const host = this.host(rawHost);
    if (!(await deleteRegistryRow(this.store, host))) throw new NotFoundError(`Registry ${host}`);
    await this.sync();
  }

  /**
   * Settings this node kept in its own files before they were shared (registries.json and certs/HOST/ca.crt) go into
   * the database, never over a registry the cluster already has (those are logged); the file is then deleted, its
   * passwords with it. Returns how many were added.
   */
  async adoptFiles(): Promise<number> {
    let entries: Record<string, FileEntry>;
    try {
      entries = (JSON.parse(fs.readFileSync(this.p.registries, 'utf8')) as { registries?: Record<string, FileEntry> }).registries ?? {};
    } catch {
      return 0;
    }
    let n = 0;
    for (const [raw, e] of Object.entries(entries)) {
      let host: string;
      try {
        host = checkRegistryHost(raw);
      } catch {
        continue;
      }
      const caFile = path.join(this.caDir(host), 'ca.crt');
      const ca = fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : null;
      const creds = e.username && e.password ? { username: e.username, password: e.password } : { username: null, password: null };
      const row = { host, insecure: !!e.insecure, ...creds, ca: ca && PEM.test(ca) ? ca : null, updatedAt: Date.now() };
      if (await addRegistryRowIfAbsent(this.store, row)) n++;
      else console.warn(`registries: ${host} in this node's registries.json is set for the cluster already: the cluster's settings are kept`);
    }
    fs.rmSync(this.p.registries, { force: true });
    await this.sync();
    return n;
  }
}
