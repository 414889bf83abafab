/**
 * Certificate chains made entirely by the OpenSSL command line (an outside implementation):
 * a root, an intermediate issued with `openssl ca`, a good leaf, a leaf that is revoked with
 * `openssl ca -revoke`, a leaf whose validity ended in 2021 (`-startdate/-enddate`), and CRLs
 * from both CAs (`openssl ca -gencrl`). SM2 certificates and CRLs are signed with the GM/T 0009
 * standard user ID (`-sigopt distid:1234567812345678`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ChainAlg = 'rsa' | 'p256' | 'sm2';
export const DISTID = 'distid:1234567812345678';

/** Paths of the files of one OpenSSL-made PKI. */
export interface OpensslChain {
  dir: string;
  root: string;
  intermediate: string;
  leaf: string;
  revokedLeaf: string;
  expiredLeaf: string;
  rootCrl: string;
  intermediateCrl: string;
}

function ossl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function keygen(dir: string, alg: ChainAlg, out: string): void {
  const opts =
    alg === 'rsa' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${alg === 'sm2' ? 'SM2' : 'P-256'}`];
  ossl(dir, ['genpkey', ...opts, '-out', out]);
}

/** Digest and SM2 ID options for signing (and, for `ca`/`x509 -req`, for checking the request). */
function signOpts(alg: ChainAlg, verifiesRequest: boolean): string[] {
  if (alg !== 'sm2') return ['-sha256'];
  return ['-sm3', '-sigopt', DISTID, ...(verifiesRequest ? ['-vfyopt', DISTID] : [])];
}

function caConfig(name: string, cert: string, key: string, md: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ./${name}
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = ./${cert}
private_key = ./${key}
default_md = ${md}
default_crl_days = 30
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ crl_ext ]
authorityKeyIdentifier = keyid
`;
}

function setupCa(dir: string, name: string, cert: string, key: string, alg: ChainAlg): string {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'index.txt'), '');
  writeFileSync(join(dir, name, 'serial'), name === 'rootca' ? '1000\n' : '2000\n');
  writeFileSync(join(dir, name, 'crlnumber'), '01\n');
  const cnf = `${name}.cnf`;
  writeFileSync(join(dir, cnf), caConfig(name, cert, key, alg === 'sm2' ? 'sm3' : 'sha256'));
  return cnf;
}

function request(dir: string, alg: ChainAlg, key: string, subject: string, out: string): void {
  ossl(dir, ['req', '-new', '-key', key, ...signOpts(alg, false), '-subj', subject, '-out', out]);
}

function issue(dir: string, alg: ChainAlg, cnf: string, csr: string, out: string, ext: string, validity: string[]): void {
  ossl(dir, ['ca', '-batch', '-notext', '-config', cnf, '-in', csr, '-out', out, '-extensions', ext, ...validity, ...signOpts(alg, true).filter((o) => o !== '-sm3' && o !== '-sha256')]);
}

/** Builds the whole PKI with OpenSSL in a fresh temporary directory. */
export function makeOpensslChain(alg: ChainAlg): OpensslChain {
  const dir = mkdtempSync(join(tmpdir(), `hpki-ossl-${alg}-`));
  const label = alg.toUpperCase();
  keygen(dir, alg, 'root.key');
  ossl(dir, [
    'req', '-x509', '-new', '-key', 'root.key', ...signOpts(alg, false), '-subj', `/C=CN/O=Health PKI Test/CN=${label} Root`, '-days', '3650',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem',
  ]);
  const rootCnf = setupCa(dir, 'rootca', 'root.pem', 'root.key', alg);
  keygen(dir, alg, 'int.key');
  request(dir, alg, 'int.key', `/C=CN/O=Health PKI Test/CN=${label} Intermediate`, 'int.csr');
  issue(dir, alg, rootCnf, 'int.csr', 'int.pem', 'ca_ext', ['-days', '1825']);
  const intCnf = setupCa(dir, 'intca', 'int.pem', 'int.key', alg);
  for (const [name, validity] of [
    ['leaf', ['-days', '365']],
    ['revoked', ['-days', '365']],
    ['expired', ['-startdate', '20200101000000Z', '-enddate', '20210101000000Z']],
  ] as const) {
    keygen(dir, alg, `${name}.key`);
    request(dir, alg, `${name}.key`, `/C=CN/O=Health PKI Test/CN=${label} ${name} leaf`, `${name}.csr`);
    issue(dir, alg, intCnf, `${name}.csr`, `${name}.pem`, 'leaf_ext', [...validity]);
  }
  const sigopt = alg === 'sm2' ? ['-sigopt', DISTID] : [];
  ossl(dir, ['ca', '-config', intCnf, '-revoke', 'revoked.pem', '-crl_reason', 'keyCompromise']);
  ossl(dir, ['ca', '-config', intCnf, '-gencrl', '-crlexts', 'crl_ext', ...sigopt, '-out', 'int.crl']);
  ossl(dir, ['ca', '-config', rootCnf, '-gencrl', '-crlexts', 'crl_ext', ...sigopt, '-out', 'root.crl']);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    root: p('root.pem'),
    intermediate: p('int.pem'),
    leaf: p('leaf.pem'),
    revokedLeaf: p('revoked.pem'),
    expiredLeaf: p('expired.pem'),
    rootCrl: p('root.crl'),
    intermediateCrl: p('int.crl'),
  };
}

/** Asks OpenSSL itself whether `cert` verifies against `issuer` alone (one link, standard SM2 ID). */
export function opensslVerifiesLink(alg: ChainAlg, issuer: string, cert: string): boolean {
  try {
    ossl('.', ['verify', ...(alg === 'sm2' ? ['-vfyopt', DISTID] : []), '-partial_chain', '-no-CApath', '-CAfile', issuer, cert]);
    return true;
  } catch {
    return false;
  }
}

/** A copy of a PEM certificate with one bit of its signature flipped, written beside it. */
export function flipSignatureBit(pemPath: string, outPath: string): string {
  const pem = readFileSync(pemPath, 'utf8');
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  der[der.length - 3] = der[der.length - 3]! ^ 0x01; // inside the signature value, clear of any DER header
  const out = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  writeFileSync(outPath, out);
  return outPath;
}
