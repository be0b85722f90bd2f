import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Certificates made by the test with openssl: a CA, leaves it signs, an expired one, a key of another pair. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** A leaf for 127.0.0.1 and localhost, signed by the CA. */
  leaf: { cert: string; key: string; fingerprint256: string };
  /** Another leaf (another key) for the same names: what SIGHUP loads. */
  leaf2: { cert: string; key: string; fingerprint256: string };
  expired: { cert: string; key: string };
}

const run = (cwd: string, args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function leaf(dir: string, name: string, caCert: string, caKey: string, dates?: [string, string]) {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  run(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  run(dir, ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-out', csr]);
  run(dir, [
    'ca',
    '-batch',
    '-config',
    path.join(dir, 'ca.cnf'),
    '-cert',
    caCert,
    '-keyfile',
    caKey,
    '-in',
    csr,
    '-out',
    cert,
    '-notext',
    ...(dates ? ['-startdate', dates[0], '-enddate', dates[1]] : ['-days', '30']),
  ]);
  return { cert, key, fingerprint256: new X509Certificate(fs.readFileSync(cert)).fingerprint256 };
}

export function makeTestPki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n' +
      '[p]\ncommonName=supplied\n',
  );
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  run(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    caKey,
    '-subj',
    '/CN=Hangar test CA',
    '-days',
    '30',
    '-out',
    caCert,
  ]);
  const expired = leaf(dir, 'expired', caCert, caKey, ['20200101000000Z', '20200102000000Z']);
  return { dir, caCert, leaf: leaf(dir, 'leaf', caCert, caKey), leaf2: leaf(dir, 'leaf2', caCert, caKey), expired };
}
