/**
 * Client-certificate CAs made at test time with the system `openssl` (`openssl
 * ca`, so certificates can be expired, revoked and listed in a CRL), in a
 * temporary directory. Nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClientCert {
  certFile: string;
  keyFile: string;
  pem: string;
  /** Upper-case hex as `openssl x509 -serial` prints it. */
  serial: string;
  /** SHA-256, lower-case hex. */
  fingerprint: string;
}

export interface ClientCa {
  dir: string;
  caFile: string;
  pem: string;
  /** Signs a client certificate; `expired` dates it in the past. */
  issue(name: string, options: { cn: string; san?: string; expired?: boolean }): ClientCert;
  /** Marks a certificate revoked in the CA's database (for the next CRL). */
  revoke(cert: ClientCert): void;
  /** A CRL of what is revoked so far, PEM. */
  crl(): string;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export function makeClientCa(label: string): ClientCa {
  const dir = mkdtempSync(join(tmpdir(), `signet-client-ca-${label}-`));
  mkdirSync(join(dir, 'newcerts'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = dev',
      '[ dev ]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir/newcerts',
      'serial = $dir/serial',
      'crlnumber = $dir/crlnumber',
      'certificate = $dir/ca.crt',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'default_days = 2',
      'default_crl_days = 7',
      'policy = anything',
      'unique_subject = no',
      '[ anything ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3', '-subj', `/CN=Signet test device CA ${label}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'],
    dir,
  );
  const ca = (args: string[]) => openssl(['ca', '-batch', '-config', 'ca.cnf', ...args], dir);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    pem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    issue(name, { cn, san, expired }) {
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
      writeFileSync(
        join(dir, `${name}.ext`),
        ['[ client ]', 'basicConstraints = CA:FALSE', 'extendedKeyUsage = clientAuth', ...(san ? [`subjectAltName = ${san}`] : []), ''].join('\n'),
      );
      const dates = expired ? ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z'] : [];
      ca(['-notext', '-extfile', `${name}.ext`, '-extensions', 'client', ...dates, '-in', `${name}.csr`, '-out', `${name}.crt`]);
      const serial = openssl(['x509', '-in', `${name}.crt`, '-noout', '-serial'], dir).trim().replace(/^serial=/, '');
      const fingerprint = openssl(['x509', '-in', `${name}.crt`, '-noout', '-fingerprint', '-sha256'], dir)
        .trim()
        .replace(/^.*=/, '')
        .replace(/:/g, '')
        .toLowerCase();
      return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), pem: readFileSync(join(dir, `${name}.crt`), 'utf8'), serial, fingerprint };
    },
    revoke(cert) {
      ca(['-revoke', cert.certFile]);
    },
    crl() {
      ca(['-gencrl', '-out', 'crl.pem']);
      return readFileSync(join(dir, 'crl.pem'), 'utf8');
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
