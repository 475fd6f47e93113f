/**
 * Test certificates, made at test time with the system `openssl` into a
 * temporary directory: a CA, and server certificates it signs for
 * `localhost` / 127.0.0.1. Nothing is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** Signs a new server certificate with common name `cn` and writes it to `<name>.crt` / `<name>.key`. */
  issue(name: string, cn: string): { certFile: string; keyFile: string };
  /**
   * Replaces certFile/keyFile with a new pair atomically (write then rename), the way
   * certificate renewers do; returns the new certificate's common name.
   */
  renew(target: { certFile: string; keyFile: string }, cn: string): void;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'signet-pki-'));
  // EC P-256 keys: quick to generate, so each test run makes its own.
  const ecKey = (file: string): void => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file], dir);
  ecKey('ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=Signet Test CA', '-out', 'ca.crt'], dir);
  let serial = 0;
  const issue = (name: string, cn: string): { certFile: string; keyFile: string } => {
    ecKey(`${name}.key`);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(++serial + 1000),
        '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
      dir,
    );
    return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  };
  let renewals = 0;
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt')),
    issue,
    renew(target, cn) {
      const next = issue(`renewal-${++renewals}`, cn);
      renameSync(next.keyFile, target.keyFile);
      renameSync(next.certFile, target.certFile);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
