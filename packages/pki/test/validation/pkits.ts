/**
 * Loads the NIST PKITS table (../shared/pkits from the repository root, or $PKITS_DIR) for the validation tests: the
 * 237 entries of testcases.json (sections 4.1-4.14) plus the delta-CRL (4.15) and private
 * extension (4.16) tests, whose files ship with PKITS but which the table does not list.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Certificate, Crl } from '../../src/index.js';

// The tests run from the repository root; shared/ lies beside the clone (as in CI).
export const PKITS_DIR = process.env.PKITS_DIR ?? resolve(process.cwd(), '..', 'shared', 'pkits');
/** The validation time BoringSSL/Chromium use; every PKITS expectation holds then. */
export const PKITS_TIME = new Date('2011-04-15T00:00:00Z');

export interface PkitsCase {
  id: string;
  name: string;
  section: string;
  anchor: string;
  path: string[];
  extraCerts?: string[];
  crls: string[];
  settings: { initialPolicySet: string[]; initialExplicitPolicy: boolean; initialPolicyMappingInhibit: boolean; initialAnyPolicyInhibit: boolean };
  expected: 'valid' | 'invalid';
  userConstrainedPolicySet?: string[];
  optional?: string;
  nistResult?: 'VALID' | 'INVALID_PATH' | 'REVOKED' | 'STATUS_UNKNOWN';
}

const DEFAULT_SETTINGS = { initialPolicySet: ['2.5.29.32.0'], initialExplicitPolicy: false, initialPolicyMappingInhibit: false, initialAnyPolicyInhibit: false };

function extra(id: string, name: string, section: string, path: string[], crls: string[], expected: 'valid' | 'invalid', nistResult: PkitsCase['nistResult']): PkitsCase {
  return { id, name, section, anchor: 'TrustAnchorRootCertificate.crt', path, crls: ['TrustAnchorRootCRL.crl', ...crls], settings: DEFAULT_SETTINGS, expected, nistResult };
}

/**
 * PKITS 4.15 and 4.16. Expected results from PKITS.pdf §4.15-4.16, as also encoded in Android
 * libcore's X509CertificateNistPkitsTest and BouncyCastle's PKITS tests.
 */
export const SUPPLEMENTARY_CASES: PkitsCase[] = [
  extra('4.15.1', 'Invalid deltaCRLIndicator No Base Test1', 'Delta-CRLs', ['deltaCRLIndicatorNoBaseCACert.crt', 'InvaliddeltaCRLIndicatorNoBaseTest1EE.crt'], ['deltaCRLIndicatorNoBaseCACRL.crl'], 'invalid', 'STATUS_UNKNOWN'),
  extra('4.15.2', 'Valid delta-CRL Test2', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'ValiddeltaCRLTest2EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'valid', 'VALID'),
  extra('4.15.3', 'Invalid delta-CRL Test3', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'InvaliddeltaCRLTest3EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'invalid', 'REVOKED'),
  extra('4.15.4', 'Invalid delta-CRL Test4', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'InvaliddeltaCRLTest4EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'invalid', 'REVOKED'),
  extra('4.15.5', 'Valid delta-CRL Test5', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'ValiddeltaCRLTest5EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'valid', 'VALID'),
  extra('4.15.6', 'Invalid delta-CRL Test6', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'InvaliddeltaCRLTest6EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'invalid', 'REVOKED'),
  extra('4.15.7', 'Valid delta-CRL Test7', 'Delta-CRLs', ['deltaCRLCA1Cert.crt', 'ValiddeltaCRLTest7EE.crt'], ['deltaCRLCA1CRL.crl', 'deltaCRLCA1deltaCRL.crl'], 'valid', 'VALID'),
  extra('4.15.8', 'Valid delta-CRL Test8', 'Delta-CRLs', ['deltaCRLCA2Cert.crt', 'ValiddeltaCRLTest8EE.crt'], ['deltaCRLCA2CRL.crl', 'deltaCRLCA2deltaCRL.crl'], 'valid', 'VALID'),
  extra('4.15.9', 'Invalid delta-CRL Test9', 'Delta-CRLs', ['deltaCRLCA2Cert.crt', 'InvaliddeltaCRLTest9EE.crt'], ['deltaCRLCA2CRL.crl', 'deltaCRLCA2deltaCRL.crl'], 'invalid', 'REVOKED'),
  extra('4.15.10', 'Invalid delta-CRL Test10', 'Delta-CRLs', ['deltaCRLCA3Cert.crt', 'InvaliddeltaCRLTest10EE.crt'], ['deltaCRLCA3CRL.crl', 'deltaCRLCA3deltaCRL.crl'], 'invalid', 'STATUS_UNKNOWN'),
  extra('4.16.1', 'Valid Unknown Not Critical Certificate Extension Test1', 'Private Certificate Extensions', ['ValidUnknownNotCriticalCertificateExtensionTest1EE.crt'], [], 'valid', 'VALID'),
  extra('4.16.2', 'Invalid Unknown Critical Certificate Extension Test2', 'Private Certificate Extensions', ['InvalidUnknownCriticalCertificateExtensionTest2EE.crt'], [], 'invalid', 'INVALID_PATH'),
];

/** The 237 entries of testcases.json. Throws when the PKITS directory is missing. */
export function loadPkitsTable(): PkitsCase[] {
  const file = join(PKITS_DIR, 'testcases.json');
  if (!existsSync(file)) throw new Error(`PKITS table not found at ${file} (set PKITS_DIR)`);
  return JSON.parse(readFileSync(file, 'utf8')) as PkitsCase[];
}

/** Every PKITS certificate, by file name. Throws when the PKITS directory is missing, as the table does: CI always has it. */
export function pkitsCertificateFiles(): Array<{ name: string; der: Buffer }> {
  const dir = join(PKITS_DIR, 'certs');
  if (!existsSync(dir)) throw new Error(`PKITS certificates not found at ${dir} (set PKITS_DIR)`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.crt'))
    .map((name) => ({ name, der: readFileSync(join(dir, name)) }));
}

export function pkitsCertBytes(name: string): Buffer {
  return readFileSync(join(PKITS_DIR, 'certs', name));
}
export function pkitsCert(name: string): Certificate {
  return Certificate.parse(pkitsCertBytes(name));
}
export function pkitsCrl(name: string): Crl {
  return Crl.parse(readFileSync(join(PKITS_DIR, 'crls', name)));
}
