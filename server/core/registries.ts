import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PutRegistryBody, Registry } from '@/lib/contracts/images';
import { checkRegistryHost, RefError } from '@/server/drivers/oci/ref';
import { checkLogin, SkopeoError, type RegistryAccess } from '@/server/drivers/oci/skopeo';
import type { OciPaths } from '@/server/drivers/oci/store';
import { BadRequestError, NotFoundError } from './errors';
import { ociFailure } from './oci-errors';
import { resolveInside } from './paths';

interface Stored {
  insecure: boolean;
  username: string | null;
  password: string | null;
}

/**
 * Settings -> Registries: per registry, TLS verification (on unless marked insecure), its own
 * CA and credentials. All of it in files under the data dir readable by the server only (0600);
 * the API shows whether a password is kept, never the password.
 */
export class RegistryService {
  constructor(private readonly p: OciPaths) {}

  private read(): Record<string, Stored> {
    try {
      return (JSON.parse(fs.readFileSync(this.p.registries, 'utf8')) as { registries: Record<string, Stored> }).registries ?? {};
    } catch {
      return {};
    }
  }

  /** registries.json and skopeo's auth.json, each written whole to a temp file (0600) and renamed. */
  private write(all: Record<string, Stored>): void {
    const put = (file: string, data: unknown) => {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
    };
    put(this.p.registries, { registries: all });
    const auths: Record<string, { auth: string }> = {};
    for (const [host, r] of Object.entries(all))
      if (r.username && r.password) auths[host] = { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') };
    put(this.p.auth, { auths });
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

  list(): Registry[] {
    return Object.entries(this.read())
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([host, r]) => this.view(host, r));
  }

  private view(host: string, r: Stored): Registry {
    return { host, insecure: r.insecure, username: r.username, hasPassword: !!r.password, hasCa: fs.existsSync(path.join(this.caDir(host), 'ca.crt')) };
  }

  /** How a pull reaches `host`, and whether credentials go with it. */
  access(host: string): RegistryAccess & { creds: boolean } {
    const r = this.read()[host];
    const dir = this.caDir(host);
    return { insecure: r?.insecure ?? false, certDir: fs.existsSync(path.join(dir, 'ca.crt')) ? dir : null, creds: !!(r?.username && r.password) };
  }

  /**
   * A containers auth file with this registry's credentials alone (none kept: an empty one, so no
   * ambient login is used), 0600 in a private dir under the data dir's tmp, removed when `fn` ends.
   * For tools that pull themselves (podman): the password goes in a file, never on an argv.
   */
  async withAuthFile<T>(host: string, fn: (file: string) => Promise<T>): Promise<T> {
    const r = this.read()[host];
    const auths = r?.username && r.password ? { [host]: { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') } } : {};
    const scratch = resolveInside(this.p.tmp, `auth-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
    try {
      const file = path.join(scratch, 'auth.json');
      fs.writeFileSync(file, `${JSON.stringify({ auths })}\n`, { mode: 0o600 });
      return await fn(file);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** Set a registry's switch, CA and credentials; new credentials are checked against the registry first. */
  async put(rawHost: string, body: PutRegistryBody): Promise<Registry> {
    const host = this.host(rawHost);
    if ((body.username === undefined) !== (body.password === undefined))
      throw new BadRequestError('Give both a username and a password, or neither.', [
        { path: body.username ? 'password' : 'username', message: 'required with the other' },
      ]);
    if (body.ca && !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(body.ca))
      throw new BadRequestError('The CA is not a PEM certificate.', [{ path: 'ca', message: 'a PEM certificate' }]);
    const all = this.read();
    const prev = all[host] ?? { insecure: false, username: null, password: null };
    const dir = this.caDir(host);
    const caFile = path.join(dir, 'ca.crt');
    const oldCa = fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : null;
    if (body.ca !== undefined) {
      fs.rmSync(dir, { recursive: true, force: true });
      if (body.ca) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(caFile, body.ca, { mode: 0o600 });
      }
    }
    const next: Stored = { insecure: body.insecure, username: body.username ?? prev.username, password: body.password ?? prev.password };
    if (body.username && body.password) {
      // The login is tried with an auth file of its own, beside the pulls' scratch dirs.
      const scratch = resolveInside(this.p.tmp, `login-${randomBytes(6).toString('hex')}`);
      fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
      try {
        await checkLogin(
          this.p,
          host,
          body.username,
          body.password,
          { insecure: next.insecure, certDir: fs.existsSync(caFile) ? dir : null },
          path.join(scratch, 'auth.json'),
        );
      } catch (err) {
        // Nothing kept from a refused login: the CA goes back to what it was.
        if (body.ca !== undefined) {
          fs.rmSync(dir, { recursive: true, force: true });
          if (oldCa) {
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            fs.writeFileSync(caFile, oldCa, { mode: 0o600 });
          }
        }
        throw err instanceof SkopeoError ? ociFailure(err) : err;
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    }
    all[host] = next;
    this.write(all);
    return this.view(host, next);
  }

  remove(rawHost: string): void {
    const host = this.host(rawHost);
    const all = this.read();
    if (!all[host]) throw new NotFoundError(`Registry ${host}`);
    delete all[host];
    this.write(all);
    fs.rmSync(this.caDir(host), { recursive: true, force: true });
  }
}
