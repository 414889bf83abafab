/**
 * RFC 3161 time-stamp issuance (request parse + TSTInfo + CMS SignedData + TimeStampResp) per
 * second for P-256 and SM2, beside the raw signature rate of the same key, and token verification.
 */
import { randomBytes } from 'node:crypto';
import { type Benchmark, type BenchRow, opsPerSecond } from './harness.js';
import { generateKey, type KeyAlgorithm } from '../src/crypto/keys.js';
import { signData } from '../src/crypto/signature.js';
import { parseName } from '../src/x509/name.js';
import { issueFromProfile } from '../src/profiles/issue.js';
import { buildTimeStampRequest, issueTimeStamp, verifyTimeStampToken, TimeStampResponse } from '../src/tsp/index.js';

function rows(alg: KeyAlgorithm, label: string): BenchRow[] {
  const rootKey = generateKey(alg);
  const notBefore = new Date('2025-01-01T00:00:00Z');
  const root = issueFromProfile({ profile: 'root-ca', subject: parseName(`C=CN,O=国家卫生健康委,CN=Bench Root ${alg}`), publicKey: rootKey.publicKey, issuerKey: rootKey, notBefore });
  const tsaKey = generateKey(alg);
  const tsaCert = issueFromProfile({ profile: 'tsa', subject: parseName(`C=CN,O=国家卫生健康委,CN=Bench TSA ${alg}`), publicKey: tsaKey.publicKey, issuerKey: rootKey, issuerCert: root, notBefore });
  const data = randomBytes(1024);
  // A typical request: a fresh nonce and the TSA certificate asked for (as `openssl ts -query -cert`).
  const requests = Array.from({ length: 64 }, () => buildTimeStampRequest({ data, hash: alg === 'sm2' ? 'sm3' : 'sha256', nonce: true, certReq: true }).der);
  let serial = 1n << 64n;
  const issue = (i: number) => issueTimeStamp({ request: requests[i % requests.length]!, tsaCert, tsaKey, serial: serial++, genTime: new Date(), policy: '1.2.156.112560.7.1', accuracy: { millis: 100 } });
  const sample = TimeStampResponse.parse(issue(0));
  if (!sample.granted) throw new Error(`${label}: the bench TSA refused its own request`);
  const signedAttrsLength = sample.token!.signedData.signerInfos[0]!.signedAttrsDer!.length;
  const message = randomBytes(signedAttrsLength);
  // Rounds measured back to back and the median taken: other load on the machine hits both alike.
  const raws: number[] = [];
  const issues: number[] = [];
  for (let r = 0; r < 3; r++) {
    raws.push(opsPerSecond(() => signData(tsaKey, message)));
    issues.push(opsPerSecond(issue));
  }
  const raw = median(raws);
  const issued = median(issues);
  const verified = opsPerSecond(() => {
    if (!verifyTimeStampToken(sample, { data, trusted: [root] }).valid) throw new Error('token did not verify');
  });
  return [
    { name: `${label} raw signature (${signedAttrsLength}-byte signed attributes)`, value: raw, unit: 'ops/s' },
    { name: `${label} time-stamp issuance (parse request, TSTInfo, SignedData, TimeStampResp)`, value: issued, unit: 'tokens/s', ratio: { against: `${label} raw signature`, value: median(issues.map((v, i) => v / raws[i]!)) } },
    { name: `${label} token verification (signature, ESS, EKU, path to the root at genTime, imprint)`, value: verified, unit: 'tokens/s' },
  ];
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

const bench: Benchmark = async () => [
  {
    title: 'RFC 3161 time-stamp issuance vs raw signature rate',
    rows: [...rows('p256', 'P-256'), ...rows('sm2', 'SM2')],
    notes: [
      'Three rounds of raw signing and issuance back to back; the medians (and the median of per-round ratios) are shown.',
      'Issuance = issueTimeStamp on a DER request (SHA-256 or SM3 imprint, nonce, certReq): request parse and checks, TSTInfo, signed attributes (contentType, messageDigest, CMSAlgorithmProtection, signingCertificateV2), one signature, SignedData with the TSA certificate, TimeStampResp. Single thread; clock and serial from the caller.',
      'The raw rate signs a random message as long as the signed attributes with the same key (SM2 through the library with the GM/T 0009 user ID).',
      'Verification uses a fresh PathValidator per call (no cache across tokens), as verifyTimeStampToken with `trusted` does.',
    ],
  },
];

export default bench;
