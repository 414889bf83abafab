/**
 * Outside verifiers for tests: the OpenSSL CLI and BouncyCastle (Java) check what our library
 * produces. Every helper writes its inputs to a fresh temporary directory, runs the tool there and
 * returns a verdict with the tool's own words, so a failing assertion shows why.
 *
 * Inputs are DER bytes or PEM (text or bytes). The helpers never use packages/pki/src: a bug there
 * must not be able to make the verifier agree with it.
 *
 * Known limits of OpenSSL 3.0 with SM2 (measured; the helpers work around or refuse, never guess):
 * - `openssl verify -vfyopt distid:...` gives the ID only to the target certificate; intermediates
 *   are checked with the empty ID and fail. SM2 chains are therefore checked link by link.
 * - `openssl crl -verify`, `verify -crl_check` and `openssl ocsp` cannot take an ID: SM2 CRL and
 *   OCSP signatures are checked with `openssl dgst -verify -sigopt distid:...` over the signed part.
 * - `openssl cms` cannot verify SM2 SignedData at all; opensslCmsVerify refuses it (use bcCheck).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  basicOcspResponse,
  certSubject,
  children,
  crlIssuer,
  derToPem,
  ocspEmbeddedCerts,
  oidToString,
  pemToDer,
  readTlv,
  signedParts,
  spkiOf,
} from './der.js';

/** DER bytes, or PEM as text or bytes. */
export type Der = Uint8Array | string;

/** A verifier's answer: did it accept, and what did it say. */
export interface Verdict {
  ok: boolean;
  output: string;
}

/** The raw result of running a program. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The SM2 user ID of GM/T 0009 that certificates, CRLs and OCSP use by default. */
export const SM2_STANDARD_ID = '1234567812345678';

const SM2_WITH_SM3 = '1.2.156.10197.1.501';
// DER encodings of SM3withSM2 (1.2.156.10197.1.501) and sm2-1 (1.2.156.10197.1.301.1) OIDs.
const SM2_OID_BYTES = [Buffer.from('06082a811ccf55018375', 'hex'), Buffer.from('06092a811ccf5501822d01', 'hex')];

interface RunOptions {
  cwd?: string;
  stdin?: Uint8Array;
  timeoutMs?: number;
}

function runProgram(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''),
      });
    });
    child.stdin.end(opts.stdin ? Buffer.from(opts.stdin) : undefined);
  });
}

/** Runs `fn` in a fresh temporary directory, removed afterwards unless HPKI_KEEP_OUTSIDE_TMP is set. */
async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hpki-outside-'));
  try {
    return await fn(dir);
  } finally {
    if (!process.env.HPKI_KEEP_OUTSIDE_TMP) await rm(dir, { recursive: true, force: true });
  }
}

function isSm2Signed(der: Der): boolean {
  try {
    return signedParts(pemToDer(der)).algorithmOid === SM2_WITH_SM3;
  } catch {
    return false;
  }
}

function pemOf(label: string, items: Der[]): string {
  return items.map((x) => derToPem(label, pemToDer(x))).join('');
}

function seconds(at: Date): string {
  return String(Math.floor(at.getTime() / 1000));
}

function combined(r: RunResult): string {
  return `${r.stdout}${r.stderr}`.trim();
}

/** The result of `openssl(...)`: the run, plus any output files asked for. */
export interface OpensslResult extends RunResult {
  outputs: Record<string, Buffer>;
}

/**
 * Runs `openssl <args>` in a temporary directory holding `files` (name → contents), so that args
 * can name them relatively; reads back the files named in `outputs` if the run created them.
 */
export async function openssl(
  args: string[],
  opts: { files?: Record<string, Uint8Array | string>; stdin?: Uint8Array; outputs?: string[] } = {},
): Promise<OpensslResult> {
  return inTempDir(async (dir) => {
    for (const [name, content] of Object.entries(opts.files ?? {})) await writeFile(join(dir, name), content);
    const r = await runProgram('openssl', args, { cwd: dir, stdin: opts.stdin });
    const outputs: Record<string, Buffer> = {};
    for (const name of opts.outputs ?? []) {
      if (existsSync(join(dir, name))) outputs[name] = await readFile(join(dir, name));
    }
    return { ...r, outputs };
  });
}

/** What `opensslVerifyCert` checks. */
export interface VerifyCertOptions {
  leaf: Der;
  /** Untrusted intermediates, any order (OpenSSL builds the path). */
  chain?: Der[];
  /** Trust anchors. */
  trusted: Der | Der[];
  /** CRLs; when given, revocation is checked (-crl_check, or -crl_check_all with crlCheck 'all'). */
  crls?: Der[];
  crlCheck?: 'leaf' | 'all';
  /** SM2 user ID; defaults to the standard ID when a certificate is signed with SM3withSM2. */
  sm2Id?: string;
  /** Verification time (-attime). */
  at?: Date;
  /** -purpose, e.g. "sslserver", "smimesign", "any". */
  purpose?: string;
  /** -check_ss_sig: also check the signature of a self-signed trust anchor. */
  checkSelfSigned?: boolean;
  /** Further `openssl verify` options. */
  extraArgs?: string[];
}

/**
 * Asks `openssl verify` whether the leaf certificate chains to a trusted one. SM2 chains with
 * intermediates are checked link by link (each link with -partial_chain), because OpenSSL 3.0
 * applies the SM2 ID only to the target certificate; SM2 with CRLs is refused (use bcCheck path).
 */
export async function opensslVerifyCert(o: VerifyCertOptions): Promise<Verdict> {
  const chain = o.chain ?? [];
  const trusted = Array.isArray(o.trusted) ? o.trusted : [o.trusted];
  const sm2 = [o.leaf, ...chain].some(isSm2Signed);
  const id = o.sm2Id ?? (sm2 ? SM2_STANDARD_ID : undefined);
  if (sm2 && o.crls?.length) {
    throw new Error('OpenSSL 3.0 checks SM2 CRL signatures only with the empty user ID; use bcCheck({kind: "path", crls}) instead');
  }
  if (sm2 && o.checkSelfSigned) {
    // -check_ss_sig checks the store's copy of the anchor with the empty ID; check it here instead.
    const anchors = await Promise.all(trusted.map((t) => opensslVerifySignedDer(t, t, { sm2Id: id })));
    const rest = await opensslVerifyCert({ ...o, checkSelfSigned: false });
    return { ok: rest.ok && anchors.every((a) => a.ok), output: [...anchors.map((a) => `anchor self-signature: ${a.output}`), rest.output].join('\n') };
  }
  if (!sm2 || chain.length === 0) return verifyOnce(o, o.leaf, chain, trusted, id, false);

  // SM2 with intermediates: leaf ← chain[0] ← chain[1] ... ← trusted. The chain must be in order.
  const links = [o.leaf, ...chain];
  const outputs: string[] = ['(SM2 chain checked link by link: OpenSSL 3.0 gives -vfyopt distid only to the target certificate)'];
  let ok = true;
  for (let i = 0; i < links.length; i++) {
    const last = i === links.length - 1;
    // The ID only where this link is SM2-signed: a mixed chain may have RSA or ECDSA links.
    const v = await verifyOnce(o, links[i]!, [], last ? trusted : [links[i + 1]!], isSm2Signed(links[i]!) ? id : undefined, !last);
    outputs.push(`link ${i}: ${v.output}`);
    ok &&= v.ok;
  }
  return { ok, output: outputs.join('\n') };
}

async function verifyOnce(o: VerifyCertOptions, leaf: Der, untrusted: Der[], trusted: Der[], id: string | undefined, partial: boolean): Promise<Verdict> {
  const files: Record<string, string> = { 'leaf.pem': pemOf('CERTIFICATE', [leaf]), 'trusted.pem': pemOf('CERTIFICATE', trusted) };
  const args = ['verify', '-CAfile', 'trusted.pem'];
  if (untrusted.length) {
    files['untrusted.pem'] = pemOf('CERTIFICATE', untrusted);
    args.push('-untrusted', 'untrusted.pem');
  }
  if (o.crls?.length) {
    // `openssl verify` takes a single -CRLfile; it may hold several CRLs.
    files['crls.pem'] = pemOf('X509 CRL', o.crls);
    args.push('-CRLfile', 'crls.pem', o.crlCheck === 'all' ? '-crl_check_all' : '-crl_check');
  }
  if (id !== undefined) args.push('-vfyopt', `distid:${id}`);
  if (partial) args.push('-partial_chain');
  if (o.at) args.push('-attime', seconds(o.at));
  if (o.purpose) args.push('-purpose', o.purpose);
  if (o.checkSelfSigned) args.push('-check_ss_sig');
  args.push(...(o.extraArgs ?? []), 'leaf.pem');
  const r = await openssl(args, { files });
  return { ok: r.code === 0 && /^leaf\.pem: OK$/m.test(r.stdout), output: combined(r) };
}

/** Asks `openssl req -verify` to check a CSR's self-signature (SM2: standard ID unless given). */
export async function opensslReqVerify(csr: Der, sm2Id?: string): Promise<Verdict> {
  const id = sm2Id ?? (isSm2Signed(csr) ? SM2_STANDARD_ID : undefined);
  const args = ['req', '-verify', '-noout', '-inform', 'DER', '-in', 'csr.der'];
  if (id !== undefined) args.push('-vfyopt', `distid:${id}`);
  const r = await openssl(args, { files: { 'csr.der': pemToDer(csr) } });
  const out = combined(r);
  return { ok: r.code === 0 && /verify OK/.test(out) && !/failure/i.test(out), output: out };
}

/**
 * Checks a CRL's signature with the issuer certificate: `openssl crl -verify`, or for SM2
 * `openssl dgst` with the user ID (after checking that OpenSSL parses the CRL and the names match).
 * Note `openssl crl -verify` exits 0 even on failure; the verdict reads its words.
 */
export async function opensslCrlVerify(crl: Der, issuerCert: Der, opts: { sm2Id?: string } = {}): Promise<Verdict> {
  const crlDer = pemToDer(crl);
  if (isSm2Signed(crlDer)) {
    const parsed = await openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-noout'], { files: { 'crl.der': crlDer } });
    if (parsed.code !== 0) return { ok: false, output: `openssl cannot parse the CRL: ${combined(parsed)}` };
    if (!crlIssuer(crlDer).equals(certSubject(pemToDer(issuerCert)))) {
      return { ok: false, output: 'CRL issuer differs from the issuer certificate subject' };
    }
    const v = await opensslVerifySignedDer(crlDer, issuerCert, { sm2Id: opts.sm2Id });
    return { ok: v.ok, output: `(SM2 CRL: signature checked with openssl dgst) ${v.output}` };
  }
  const r = await openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'issuer.pem', '-noout', '-verify'], {
    files: { 'crl.der': crlDer, 'issuer.pem': pemOf('CERTIFICATE', [issuerCert]) },
  });
  const out = combined(r);
  return { ok: r.code === 0 && /^verify OK$/m.test(out), output: out };
}

const HASH_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.156.10197.1.401': 'sm3',
};

const DIGEST_BY_SIGNATURE_OID: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha1',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
  [SM2_WITH_SM3]: 'sm3',
};

/** `openssl dgst` options for RSASSA-PSS parameters (RFC 4055 defaults: SHA-1, MGF1-SHA-1, salt 20). */
function pssOptions(params: Buffer): { digest: string; sigopts: string[] } {
  let digest = 'sha1';
  let mgfDigest = 'sha1';
  let salt = 20;
  if (params.length > 0 && params[0] === 0x30) {
    for (const field of children(params, readTlv(params, 0))) {
      const inner = readTlv(params, field.valueStart);
      if (field.tag === 0xa0) digest = HASH_BY_OID[oidToString(params, children(params, inner)[0]!)] ?? 'unknown';
      if (field.tag === 0xa1) {
        const mgfParams = children(params, inner)[1];
        if (mgfParams) mgfDigest = HASH_BY_OID[oidToString(params, children(params, mgfParams)[0]!)] ?? 'unknown';
      }
      if (field.tag === 0xa2) salt = Number.parseInt(params.subarray(inner.valueStart, inner.end).toString('hex'), 16);
    }
  }
  return { digest, sigopts: ['rsa_padding_mode:pss', `rsa_pss_saltlen:${salt}`, `rsa_mgf1_md:${mgfDigest}`] };
}

/**
 * Checks the signature of any SIGNED{...} DER structure (certificate, CRL, CSR, BasicOCSPResponse,
 * or an OCSPResponse around one) with `openssl dgst -verify` over its signed part. `signer` is a
 * certificate or a SubjectPublicKeyInfo. This checks only the signature, nothing else.
 */
export async function opensslVerifySignedDer(der: Der, signer: Der, opts: { sm2Id?: string } = {}): Promise<Verdict> {
  let bytes = pemToDer(der);
  if (bytes[0] === 0x30 && children(bytes, readTlv(bytes, 0))[0]?.tag === 0x0a) bytes = basicOcspResponse(bytes).basic;
  const parts = signedParts(bytes);
  const spki = spkiOf(pemToDer(signer));
  const files: Record<string, Uint8Array | string> = {
    'tbs.der': parts.tbs,
    'sig.bin': parts.signature,
    'key.pem': derToPem('PUBLIC KEY', spki),
  };
  let args: string[];
  if (parts.algorithmOid === '1.3.101.112') {
    args = ['pkeyutl', '-verify', '-pubin', '-inkey', 'key.pem', '-rawin', '-in', 'tbs.der', '-sigfile', 'sig.bin'];
  } else {
    let digest = DIGEST_BY_SIGNATURE_OID[parts.algorithmOid];
    let sigopts: string[] = [];
    if (parts.algorithmOid === '1.2.840.113549.1.1.10') ({ digest, sigopts } = pssOptions(parts.algorithmParams));
    if (parts.algorithmOid === SM2_WITH_SM3) sigopts = [`distid:${opts.sm2Id ?? SM2_STANDARD_ID}`];
    if (!digest || digest === 'unknown') throw new Error(`opensslVerifySignedDer: unsupported signature algorithm ${parts.algorithmOid}`);
    args = ['dgst', `-${digest}`, '-verify', 'key.pem', ...sigopts.flatMap((s) => ['-sigopt', s]), '-signature', 'sig.bin', 'tbs.der'];
  }
  const r = await openssl(args, { files });
  const out = combined(r);
  return { ok: r.code === 0 && /Verified OK|Signature Verified Successfully/.test(out), output: `${parts.algorithmOid}: ${out}` };
}

/** What `opensslOcspVerifyResponse` checks. */
export interface OcspVerifyOptions {
  /** Trust anchors for the responder's certificate (-CAfile). */
  trusted?: Der[];
  /** A directly trusted responder certificate (-VAfile); also the signer for SM2 responses. */
  responder?: Der;
  /** With `serial`: report the status of that certificate (-issuer, -serial). */
  issuer?: Der;
  /** Serial number as a bigint or hex string (with or without 0x). */
  serial?: bigint | string;
  /** Time for the responder certificate checks (-attime). */
  at?: Date;
  /** With `serial`: reject a thisUpdate older than this (-status_age). */
  maxAgeSeconds?: number;
  sm2Id?: string;
}

/** The verdict on an OCSP response, with the status of the asked certificate when one was asked. */
export interface OcspVerdict extends Verdict {
  status?: 'good' | 'revoked' | 'unknown';
}

/**
 * Asks `openssl ocsp -respin` whether an OCSP response verifies (needs `trusted` or `responder`).
 * With `issuer` and `serial` it also reports that certificate's status, and a response whose
 * thisUpdate/nextUpdate are not current fails; OpenSSL judges that at the real current time
 * (-attime moves only the certificate checks).
 * SM2 responses: signature checked with `openssl dgst` and the user ID; the responder certificate
 * (given, or else the first embedded one) is checked against `trusted` with opensslVerifyCert.
 */
export async function opensslOcspVerifyResponse(resp: Der, o: OcspVerifyOptions): Promise<OcspVerdict> {
  if (!o.trusted?.length && !o.responder) throw new Error('opensslOcspVerifyResponse needs trusted or responder');
  const respDer = pemToDer(resp);
  const files: Record<string, Uint8Array | string> = { 'resp.der': respDer };
  const statusArgs: string[] = [];
  if (o.issuer !== undefined && o.serial !== undefined) {
    const hex = typeof o.serial === 'bigint' ? o.serial.toString(16) : o.serial.replace(/^0x/i, '');
    files['issuer.pem'] = pemOf('CERTIFICATE', [o.issuer]);
    statusArgs.push('-issuer', 'issuer.pem', '-serial', `0x${hex}`, '-no_nonce');
    if (o.maxAgeSeconds !== undefined) statusArgs.push('-status_age', String(o.maxAgeSeconds));
  }
  const timeArgs = o.at ? ['-attime', seconds(o.at)] : [];
  let sm2 = false;
  try {
    sm2 = signedParts(basicOcspResponse(respDer).basic).algorithmOid === SM2_WITH_SM3;
  } catch {
    // Not parseable here: let OpenSSL say why.
  }
  if (sm2) {
    const basic = basicOcspResponse(respDer).basic;
    const signer = o.responder ?? ocspEmbeddedCerts(basic)[0];
    if (!signer) return { ok: false, output: 'SM2 OCSP response: no responder certificate given or embedded' };
    const outputs: string[] = ['(SM2 OCSP: signature checked with openssl dgst; openssl ocsp cannot take the user ID)'];
    const sig = await opensslVerifySignedDer(basic, signer, { sm2Id: o.sm2Id });
    outputs.push(`signature: ${sig.output}`);
    let ok = sig.ok;
    if (o.trusted?.length && !o.responder) {
      const chain = await opensslVerifyCert({ leaf: signer, trusted: o.trusted, sm2Id: o.sm2Id, at: o.at });
      outputs.push(`responder certificate: ${chain.output}`);
      ok &&= chain.ok;
    }
    const r = await openssl(['ocsp', '-respin', 'resp.der', '-noverify', ...statusArgs, ...timeArgs], { files });
    outputs.push(combined(r));
    return { ok: ok && r.code === 0 && timesValid(combined(r)), output: outputs.join('\n'), status: statusOf(r.stdout) };
  }
  const args = ['ocsp', '-respin', 'resp.der'];
  if (o.trusted?.length) {
    files['trusted.pem'] = pemOf('CERTIFICATE', o.trusted);
    args.push('-CAfile', 'trusted.pem');
  }
  if (o.responder) {
    files['responder.pem'] = pemOf('CERTIFICATE', [o.responder]);
    args.push('-VAfile', 'responder.pem');
  }
  const r = await openssl([...args, ...statusArgs, ...timeArgs], { files });
  const out = combined(r);
  return { ok: r.code === 0 && /Response verify OK/.test(out) && timesValid(out), output: out, status: statusOf(r.stdout) };
}

/** `openssl ocsp` only warns (exit 0) when thisUpdate/nextUpdate are off; that is a failure here. */
function timesValid(out: string): boolean {
  return !/Status times invalid/i.test(out);
}

function statusOf(stdout: string): OcspVerdict['status'] {
  // "0x1001: good", or the status alone on a later line after "0x1001: WARNING: ...".
  const m = /^(?:0x[0-9A-Fa-f]+: )?(good|revoked|unknown)$/m.exec(stdout);
  return m ? (m[1] as OcspVerdict['status']) : undefined;
}

/** The verdict on a CMS SignedData, with the signed content OpenSSL extracted. */
export interface CmsVerdict extends Verdict {
  content?: Buffer;
}

/**
 * Asks `openssl cms -verify` whether a SignedData verifies (attached, or detached with `content`).
 * With `trusted` the signer certificates are chain-checked; without, only signatures (-noverify).
 * Refuses SM2 SignedData, which OpenSSL 3.0 cannot verify (use bcCheck).
 */
export async function opensslCmsVerify(cms: Der, o: { content?: Uint8Array; trusted?: Der[]; purpose?: string; at?: Date } = {}): Promise<CmsVerdict> {
  const der = pemToDer(cms);
  if (SM2_OID_BYTES.some((oid) => der.includes(oid))) {
    throw new Error('OpenSSL 3.0 cannot verify SM2 CMS SignedData (empty user ID, no GM/T 0010 OIDs); use bcCheck({kind: "cms"})');
  }
  const files: Record<string, Uint8Array | string> = { 'cms.der': der };
  const args = ['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'cms.der', '-out', 'content.out'];
  if (o.content) {
    files['content.bin'] = o.content;
    args.push('-content', 'content.bin');
  }
  if (o.trusted?.length) {
    files['trusted.pem'] = pemOf('CERTIFICATE', o.trusted);
    args.push('-CAfile', 'trusted.pem', '-purpose', o.purpose ?? 'any');
  } else {
    args.push('-noverify');
  }
  if (o.at) args.push('-attime', seconds(o.at));
  const r = await openssl(args, { files, outputs: ['content.out'] });
  const out = combined(r);
  return { ok: r.code === 0 && /Verification successful/.test(out), output: out, content: r.outputs['content.out'] };
}

// ---------------------------------------------------------------------------------------------
// BouncyCastle

/** One BouncyCastle check; see packages/pki/test/java/BcCheck.java for what each kind verifies. */
export type BcJob =
  | { kind: 'cert'; cert: Der; issuer: Der }
  | { kind: 'csr'; csr: Der }
  | { kind: 'crl'; crl: Der; issuer: Der }
  | { kind: 'cms'; cms: Der; content?: Uint8Array }
  /** Without `responder`, the first certificate embedded in the response signs it. */
  | { kind: 'ocsp'; response: Der; responder?: Der }
  /** RFC 3161: a token or a TimeStampResp; BC's TimeStampToken.validate with the embedded signer certificate, imprint checked against `data`. */
  | { kind: 'tsp'; token: Der; data?: Uint8Array }
  /** Not a check: BC's TSA answers `request` with this TSA certificate and PKCS#8 key; the verdict output is "resp=<hex>". */
  | { kind: 'tsp-issue'; tsaCert: Der; tsaKey: Uint8Array; request: Uint8Array }
  /** PKIX validation; `chain` is leaf first. CRLs turn revocation checking on (needed for every certificate). */
  | { kind: 'path'; anchor: Der; chain: Der[]; crls?: Der[]; at?: Date };

/** BouncyCastle's verdict on one job: OK with some facts (e.g. "status=1a:good"), or FAIL with why. */
export type BcResult = Verdict;

const BC_JARS = ['/usr/share/java/bcprov.jar', '/usr/share/java/bcpkix.jar', '/usr/share/java/bcutil.jar'];
// Compiled to packages/pki/dist/test/helpers/outside.js; the Java source stays in packages/pki/test/java.
const BC_CHECK_SOURCE = fileURLToPath(new URL('../../../test/java/BcCheck.java', import.meta.url));

/**
 * Runs all jobs in one JVM (it takes about 2 s to start and compile BcCheck.java) and returns one
 * verdict per job, in order. Throws when the checker itself cannot run.
 */
export async function bcCheck(jobs: BcJob[]): Promise<BcResult[]> {
  if (jobs.length === 0) return [];
  return inTempDir(async (dir) => {
    let fileNo = 0;
    const put = async (data: Der): Promise<string> => {
      const p = join(dir, `f${fileNo++}.der`);
      await writeFile(p, pemToDer(data));
      return p;
    };
    const lines: string[] = [];
    for (const job of jobs) {
      switch (job.kind) {
        case 'cert':
          lines.push(`cert ${await put(job.cert)} ${await put(job.issuer)}`);
          break;
        case 'csr':
          lines.push(`csr ${await put(job.csr)}`);
          break;
        case 'crl':
          lines.push(`crl ${await put(job.crl)} ${await put(job.issuer)}`);
          break;
        case 'cms': {
          const contentPath = job.content ? join(dir, `f${fileNo++}.bin`) : undefined;
          if (contentPath) await writeFile(contentPath, job.content!);
          lines.push(`cms ${await put(job.cms)}${contentPath ? ` ${contentPath}` : ''}`);
          break;
        }
        case 'ocsp':
          lines.push(`ocsp ${await put(job.response)}${job.responder ? ` ${await put(job.responder)}` : ''}`);
          break;
        case 'tsp': {
          const dataPath = job.data ? join(dir, `f${fileNo++}.bin`) : undefined;
          if (dataPath) await writeFile(dataPath, job.data!);
          lines.push(`tsp ${await put(job.token)}${dataPath ? ` ${dataPath}` : ''}`);
          break;
        }
        case 'tsp-issue':
          lines.push(`tsp-issue ${await put(job.tsaCert)} ${await put(job.tsaKey)} ${await put(job.request)}`);
          break;
        case 'path': {
          const parts = [`path ${await put(job.anchor)}`];
          for (const c of job.chain) parts.push(await put(c));
          for (const c of job.crls ?? []) parts.push(`crl=${await put(c)}`);
          if (job.at) parts.push(`at=${seconds(job.at)}`);
          lines.push(parts.join(' '));
          break;
        }
      }
    }
    const jobFile = join(dir, 'jobs.txt');
    await writeFile(jobFile, lines.join('\n') + '\n');
    const classpath = process.env.HPKI_BC_CLASSPATH ?? BC_JARS.join(':');
    const r = await runProgram('java', ['-cp', classpath, BC_CHECK_SOURCE, jobFile], { timeoutMs: 180_000 });
    const verdicts = r.stdout.split('\n').filter((l) => /^(OK|FAIL) \d+/.test(l));
    if (r.code !== 0 || verdicts.length !== jobs.length) {
      throw new Error(`BcCheck did not run cleanly (exit ${r.code}, ${verdicts.length}/${jobs.length} verdicts):\n${r.stderr}\n${r.stdout}`);
    }
    return verdicts.map((line, i) => {
      const m = /^(OK|FAIL) (\d+) ?(.*)$/.exec(line)!;
      if (Number(m[2]) !== i) throw new Error(`BcCheck verdicts out of order at line ${i}: ${line}`);
      return { ok: m[1] === 'OK', output: m[3] ?? '' };
    });
  });
}
