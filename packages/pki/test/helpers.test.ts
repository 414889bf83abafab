// Self-test of the outside verifiers (test/helpers/outside.ts): objects made by the openssl CLI
// itself must pass both OpenSSL and BouncyCastle, and a copy with one flipped signature bit (or a
// changed content, a wrong SM2 user ID, a revoked certificate) must fail both. Without this, a
// harness that always said OK would make every interoperability test meaningless.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SM2_STANDARD_ID,
  bcCheck,
  opensslCmsVerify,
  opensslCrlVerify,
  opensslOcspVerifyResponse,
  opensslReqVerify,
  opensslVerifyCert,
  opensslVerifySignedDer,
  type BcJob,
  type BcResult,
} from './helpers/outside.js';
import { flipBit, flipOcspSignatureBit, flipSignatureBit, pemToDer } from './helpers/der.js';

type Alg = 'rsa' | 'p256' | 'sm2';

/** Everything the openssl CLI made for one algorithm (DER). */
interface Pki {
  root: Buffer;
  inter: Buffer;
  leaf: Buffer;
  /** A leaf signed by the intermediate with the empty SM2 user ID (SM2 only). */
  leafEmptyId?: Buffer;
  csr: Buffer;
  rootCrl: Buffer;
  interCrl: Buffer;
  /** An intermediate CRL that revokes the leaf. */
  revokingCrl: Buffer;
  /** OCSP response by the intermediate saying the leaf (serial 1001) is revoked. */
  ocsp: Buffer;
  /** RSA and P-256 only: OpenSSL 3.0 cannot make SM2 CMS. */
  cmsAttached?: Buffer;
  cmsDetached?: Buffer;
}

const CONTENT = Buffer.from('health record 42\n');
const LEAF_SERIAL = '1001';

function makePki(alg: Alg, dir: string): Pki {
  const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const der = (file: string) => pemToDer(readFileSync(join(dir, file)));
  const keygen = {
    rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    sm2: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2'],
  }[alg];
  const md = alg === 'sm2' ? '-sm3' : '-sha256';
  const sigopt = alg === 'sm2' ? ['-sigopt', `distid:${SM2_STANDARD_ID}`] : [];
  const vfyopt = alg === 'sm2' ? ['-vfyopt', `distid:${SM2_STANDARD_ID}`] : [];
  for (const k of ['root', 'inter', 'leaf']) sh('genpkey', ...keygen, '-out', `${k}.key`);
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n');
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\n');
  sh('req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=Root ${alg}`, '-days', '3650', md, ...sigopt,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem');
  sh('req', '-new', '-key', 'inter.key', '-subj', `/CN=Inter ${alg}`, md, ...sigopt, '-out', 'inter.csr');
  sh('x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2', '-days', '3650', md,
    ...sigopt, ...vfyopt, '-extfile', 'ca.ext', '-out', 'inter.pem');
  sh('req', '-new', '-key', 'leaf.key', '-subj', `/CN=Leaf ${alg}`, md, ...sigopt, '-out', 'leaf.csr');
  sh('x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-set_serial', `0x${LEAF_SERIAL}`, '-days', '365',
    md, ...sigopt, ...vfyopt, '-extfile', 'leaf.ext', '-out', 'leaf.pem');
  if (alg === 'sm2') {
    sh('x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-set_serial', `0x${LEAF_SERIAL}`, '-days', '365',
      md, ...vfyopt, '-extfile', 'leaf.ext', '-out', 'leaf-emptyid.pem');
  }

  // CRLs through `openssl ca -gencrl`, from index files listing the revoked serials.
  const far = '491231235959Z';
  const gencrl = (ca: string, index: string, out: string) => {
    writeFileSync(join(dir, `${out}.idx`), index);
    writeFileSync(join(dir, `${out}.num`), '01\n');
    writeFileSync(join(dir, `${out}.cnf`), `[ca]\ndefault_ca=d\n[d]\ndatabase=${out}.idx\ncrlnumber=${out}.num\ndefault_crl_days=30\n`);
    sh('ca', '-config', `${out}.cnf`, '-gencrl', '-keyfile', `${ca}.key`, '-cert', `${ca}.pem`, '-md', md.slice(1), ...sigopt, '-out', out);
  };
  const revoked = `R\t${far}\t240101000000Z,keyCompromise\t${LEAF_SERIAL}\tunknown\t/CN=Leaf ${alg}\n`;
  gencrl('root', '', 'root.crl');
  gencrl('inter', '', 'inter.crl');
  gencrl('inter', revoked, 'revoking.crl');

  writeFileSync(join(dir, 'ocsp.idx'), revoked);
  sh('ocsp', '-issuer', 'inter.pem', '-serial', `0x${LEAF_SERIAL}`, '-no_nonce', '-reqout', 'ocsp-req.der');
  sh('ocsp', '-index', 'ocsp.idx', '-rsigner', 'inter.pem', '-rkey', 'inter.key', '-CA', 'inter.pem', '-reqin', 'ocsp-req.der',
    '-respout', 'ocsp.der', '-ndays', '1', '-rmd', md.slice(1), ...(alg === 'sm2' ? ['-rsigopt', `distid:${SM2_STANDARD_ID}`] : []));

  const pki: Pki = {
    root: der('root.pem'),
    inter: der('inter.pem'),
    leaf: der('leaf.pem'),
    csr: der('leaf.csr'),
    rootCrl: der('root.crl'),
    interCrl: der('inter.crl'),
    revokingCrl: der('revoking.crl'),
    ocsp: readFileSync(join(dir, 'ocsp.der')),
  };
  if (alg === 'sm2') pki.leafEmptyId = der('leaf-emptyid.pem');
  else {
    writeFileSync(join(dir, 'content.txt'), CONTENT);
    const sign = (out: string, attached: boolean) =>
      sh('cms', '-sign', '-binary', '-in', 'content.txt', '-signer', 'leaf.pem', '-inkey', 'leaf.key', '-certfile', 'inter.pem',
        '-md', 'sha256', '-outform', 'DER', '-out', out, ...(attached ? ['-nodetach'] : []));
    sign('cms-att.der', true);
    sign('cms-det.der', false);
    pki.cmsAttached = readFileSync(join(dir, 'cms-att.der'));
    pki.cmsDetached = readFileSync(join(dir, 'cms-det.der'));
  }
  return pki;
}

const ALGS: Alg[] = ['rsa', 'p256', 'sm2'];
const pkis = {} as Record<Alg, Pki>;
/** BouncyCastle verdicts by name, all from one JVM run. */
const bc = new Map<string, BcResult>();

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hpki-helpers-test-'));
  try {
    for (const alg of ALGS) {
      const sub = join(dir, alg);
      mkdirSync(sub);
      pkis[alg] = makePki(alg, sub);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const named: Array<[string, BcJob]> = [];
  for (const alg of ALGS) {
    const p = pkis[alg];
    named.push(
      [`${alg} cert`, { kind: 'cert', cert: p.leaf, issuer: p.inter }],
      [`${alg} cert tampered`, { kind: 'cert', cert: flipSignatureBit(p.leaf), issuer: p.inter }],
      [`${alg} cert wrong issuer`, { kind: 'cert', cert: p.leaf, issuer: p.root }],
      [`${alg} csr`, { kind: 'csr', csr: p.csr }],
      [`${alg} csr tampered`, { kind: 'csr', csr: flipSignatureBit(p.csr) }],
      [`${alg} crl`, { kind: 'crl', crl: p.revokingCrl, issuer: p.inter }],
      [`${alg} crl tampered`, { kind: 'crl', crl: flipSignatureBit(p.revokingCrl), issuer: p.inter }],
      [`${alg} ocsp`, { kind: 'ocsp', response: p.ocsp, responder: p.inter }],
      [`${alg} ocsp embedded`, { kind: 'ocsp', response: p.ocsp }],
      [`${alg} ocsp tampered`, { kind: 'ocsp', response: flipOcspSignatureBit(p.ocsp), responder: p.inter }],
      [`${alg} path`, { kind: 'path', anchor: p.root, chain: [p.leaf, p.inter] }],
      [`${alg} path crls`, { kind: 'path', anchor: p.root, chain: [p.leaf, p.inter], crls: [p.interCrl, p.rootCrl] }],
      [`${alg} path revoked`, { kind: 'path', anchor: p.root, chain: [p.leaf, p.inter], crls: [p.revokingCrl, p.rootCrl] }],
      [`${alg} path expired`, { kind: 'path', anchor: p.root, chain: [p.leaf, p.inter], at: new Date(Date.now() + 400 * 86400_000) }],
      [`${alg} path tampered`, { kind: 'path', anchor: p.root, chain: [flipSignatureBit(p.leaf), p.inter] }],
    );
    if (p.leafEmptyId) named.push([`${alg} cert empty id`, { kind: 'cert', cert: p.leafEmptyId, issuer: p.inter }]);
    if (p.cmsAttached && p.cmsDetached) {
      named.push(
        [`${alg} cms attached`, { kind: 'cms', cms: p.cmsAttached }],
        [`${alg} cms detached`, { kind: 'cms', cms: p.cmsDetached, content: CONTENT }],
        [`${alg} cms detached other content`, { kind: 'cms', cms: p.cmsDetached, content: Buffer.from('health record 43\n') }],
        [`${alg} cms detached no content`, { kind: 'cms', cms: p.cmsDetached }],
        [`${alg} cms tampered`, { kind: 'cms', cms: flipBit(p.cmsAttached, -1) }],
      );
    }
  }
  const results = await bcCheck(named.map(([, j]) => j));
  named.forEach(([name], i) => bc.set(name, results[i]!));
});

function bcSays(name: string, ok: boolean): void {
  const r = bc.get(name);
  assert.ok(r, `no BouncyCastle verdict for ${name}`);
  assert.equal(r.ok, ok, `BouncyCastle on "${name}": ${r.output}`);
}

function expect(v: { ok: boolean; output: string }, ok: boolean, what: string): void {
  assert.equal(v.ok, ok, `OpenSSL on "${what}": ${v.output}`);
}

for (const alg of ALGS) {
  describe(`outside verifiers, ${alg}`, () => {
    test('certificate: a good chain passes, a flipped signature bit fails', async () => {
      const p = pkis[alg];
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root }), true, 'chain');
      expect(await opensslVerifyCert({ leaf: flipSignatureBit(p.leaf), chain: [p.inter], trusted: p.root }), false, 'tampered leaf');
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [flipSignatureBit(p.inter)], trusted: p.root }), false, 'tampered intermediate');
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, at: new Date(Date.now() + 400 * 86400_000) }), false, 'expired');
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, checkSelfSigned: true }), true, 'anchor self-signature');
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: flipSignatureBit(p.root), checkSelfSigned: true }), false, 'tampered anchor');
      expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: flipSignatureBit(p.root) }), true, 'anchor signature is not checked by default');
      bcSays(`${alg} cert`, true);
      bcSays(`${alg} cert tampered`, false);
      bcSays(`${alg} cert wrong issuer`, false);
    });

    test('CSR: passes, and fails with a flipped signature bit', async () => {
      const p = pkis[alg];
      expect(await opensslReqVerify(p.csr), true, 'csr');
      expect(await opensslReqVerify(flipSignatureBit(p.csr)), false, 'tampered csr');
      bcSays(`${alg} csr`, true);
      bcSays(`${alg} csr tampered`, false);
    });

    test('CRL: passes, fails tampered or under the wrong issuer', async () => {
      const p = pkis[alg];
      expect(await opensslCrlVerify(p.revokingCrl, p.inter), true, 'crl');
      expect(await opensslCrlVerify(flipSignatureBit(p.revokingCrl), p.inter), false, 'tampered crl');
      expect(await opensslCrlVerify(p.revokingCrl, p.root), false, 'crl under the wrong issuer');
      bcSays(`${alg} crl`, true);
      bcSays(`${alg} crl tampered`, false);
    });

    test('OCSP: passes and reports "revoked", fails tampered', async () => {
      const p = pkis[alg];
      const v = await opensslOcspVerifyResponse(p.ocsp, { trusted: [p.root, p.inter], issuer: p.inter, serial: BigInt(`0x${LEAF_SERIAL}`) });
      expect(v, true, 'ocsp');
      assert.equal(v.status, 'revoked', v.output);
      expect(await opensslOcspVerifyResponse(p.ocsp, { responder: p.inter }), true, 'ocsp with a trusted responder');
      expect(await opensslOcspVerifyResponse(flipOcspSignatureBit(p.ocsp), { responder: p.inter }), false, 'tampered ocsp');
      bcSays(`${alg} ocsp`, true);
      bcSays(`${alg} ocsp embedded`, true);
      assert.match(bc.get(`${alg} ocsp`)!.output, new RegExp(`status=${LEAF_SERIAL}:revoked`));
      bcSays(`${alg} ocsp tampered`, false);
    });

    test('signature of any SIGNED{} structure with openssl dgst', async () => {
      const p = pkis[alg];
      expect(await opensslVerifySignedDer(p.leaf, p.inter), true, 'leaf by intermediate');
      expect(await opensslVerifySignedDer(flipSignatureBit(p.leaf), p.inter), false, 'tampered leaf');
      expect(await opensslVerifySignedDer(p.leaf, p.root), false, 'leaf by the wrong key');
    });

    test('BouncyCastle PKIX path: valid, revoked, expired, tampered', () => {
      bcSays(`${alg} path`, true);
      bcSays(`${alg} path crls`, true);
      bcSays(`${alg} path revoked`, false);
      bcSays(`${alg} path expired`, false);
      bcSays(`${alg} path tampered`, false);
    });

    if (alg === 'sm2') {
      test('SM2: a signature made with the empty user ID fails both; a wrong ID fails OpenSSL', async () => {
        const p = pkis.sm2;
        expect(await opensslVerifyCert({ leaf: p.leafEmptyId!, chain: [p.inter], trusted: p.root }), false, 'empty-ID leaf');
        expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, sm2Id: 'ALICE123@YAHOO.COM' }), false, 'other ID');
        expect(await opensslReqVerify(p.csr, '1234'), false, 'csr with another ID');
        expect(await opensslCrlVerify(p.revokingCrl, p.inter, { sm2Id: '1234' }), false, 'crl with another ID');
        bcSays('sm2 cert empty id', false);
      });

      test('SM2: OpenSSL refuses what it cannot check instead of answering wrongly', async () => {
        const p = pkis.sm2;
        await assert.rejects(opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, crls: [p.interCrl] }), /SM2 CRL/);
      });
    } else {
      test('revocation: OpenSSL rejects a certificate its CRL revokes', async () => {
        const p = pkis[alg];
        expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, crls: [p.interCrl] }), true, 'not revoked');
        const r = await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, crls: [p.revokingCrl] });
        expect(r, false, 'revoked');
        assert.match(r.output, /revoked/);
        expect(await opensslVerifyCert({ leaf: p.leaf, chain: [p.inter], trusted: p.root, crls: [p.interCrl, p.rootCrl], crlCheck: 'all' }), true, 'crl_check_all');
      });

      test('CMS: attached and detached pass; other content or a flipped bit fails', async () => {
        const p = pkis[alg];
        const att = await opensslCmsVerify(p.cmsAttached!, { trusted: [p.root] });
        expect(att, true, 'attached');
        assert.deepEqual(att.content, CONTENT);
        expect(await opensslCmsVerify(p.cmsDetached!, { content: CONTENT, trusted: [p.root] }), true, 'detached');
        expect(await opensslCmsVerify(p.cmsDetached!, { content: Buffer.from('health record 43\n'), trusted: [p.root] }), false, 'other content');
        expect(await opensslCmsVerify(flipBit(p.cmsAttached!, -1), {}), false, 'tampered signature');
        bcSays(`${alg} cms attached`, true);
        bcSays(`${alg} cms detached`, true);
        bcSays(`${alg} cms detached other content`, false);
        bcSays(`${alg} cms detached no content`, false);
        bcSays(`${alg} cms tampered`, false);
      });
    }
  });
}
