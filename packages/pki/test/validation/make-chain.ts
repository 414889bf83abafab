/** Small builders of test certificates for the validation tests (P-256 keys, this library's encoder). */
import * as x from '@peculiar/asn1-x509';
import {
  authorityKeyIdentifierExt,
  basicConstraintsExt,
  buildCertificate,
  generateKey,
  keyIdentifier,
  keyUsageExt,
  parseName,
  subjectKeyIdentifierExt,
  type Certificate,
  type PrivateKey,
} from '../../src/index.js';

/** A certificate with its private key. */
export interface Issued {
  cert: Certificate;
  key: PrivateKey;
}

const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
const NOT_AFTER = new Date('2034-01-01T00:00:00Z');
/** A time inside every test certificate's validity. */
export const TEST_TIME = new Date('2026-06-01T00:00:00Z');

/** Options for one test certificate. */
export interface IssueOptions {
  subject: string;
  issuer?: Issued;
  ca?: boolean;
  pathLen?: number;
  key?: PrivateKey;
  /** Leave out the authorityKeyIdentifier (forces the builder to try candidates by name only). */
  noAki?: boolean;
  extensions?: x.Extension[];
}

/** Issues a certificate (self-signed when no issuer is given). */
export function issue(o: IssueOptions): Issued {
  const key = o.key ?? generateKey('p256');
  const signer = o.issuer?.key ?? key;
  const ca = o.ca ?? true;
  const exts = [
    basicConstraintsExt(ca, o.pathLen),
    keyUsageExt(ca ? ['keyCertSign', 'crlSign'] : ['digitalSignature']),
    subjectKeyIdentifierExt(key.publicKey),
    ...(o.noAki ? [] : [authorityKeyIdentifierExt(keyIdentifier(signer.publicKey))]),
    ...(o.extensions ?? []),
  ];
  const cert = buildCertificate(
    { subject: parseName(o.subject), issuer: o.issuer ? o.issuer.cert.subject : undefined, notBefore: NOT_BEFORE, notAfter: NOT_AFTER, publicKey: key.publicKey, extensions: exts },
    signer,
  );
  return { cert, key };
}

/** A root, `depth` intermediates below it (each issuing the next) and a leaf. */
export function deepChain(depth: number): { root: Issued; intermediates: Issued[]; leaf: Issued } {
  const key = generateKey('p256'); // one key for all CAs keeps a 100-level chain quick to make
  const root = issue({ subject: 'CN=Deep Root', key });
  const intermediates: Issued[] = [];
  let parent = root;
  for (let i = 1; i <= depth; i++) {
    parent = issue({ subject: `CN=Deep CA ${i}`, issuer: parent, key });
    intermediates.push(parent);
  }
  const leaf = issue({ subject: 'CN=Deep Leaf', issuer: parent, ca: false });
  return { root, intermediates, leaf };
}
