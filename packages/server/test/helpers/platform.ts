/** Test data for the platform tests: CA certificates made with the pki library and admission applications. */
import { addDays, basicConstraintsExt, buildCertificate, generateKey, parseName, randomSerial, type Certificate } from '@health-pki/pki';

/** A self-signed CA certificate (test data made with the pki library). */
export function caCertificate(cn: string, ca = true): Certificate {
  const key = generateKey('p256');
  const now = new Date();
  return buildCertificate({ serialNumber: randomSerial(), subject: parseName(`C=CN,O=Test,CN=${cn}`), notBefore: now, notAfter: addDays(now, 3650), publicKey: key.publicKey, extensions: [basicConstraintsExt(ca)] }, key);
}

/** An application body for a CA based in `province`. */
export function application(name: string, province: string, licenceNotAfter = addDays(new Date(), 700).toISOString()): Record<string, unknown> {
  return {
    name,
    displayName: `${name} 数字认证`,
    homeProvince: province,
    provinces: [province],
    licence: { number: `ECP-${name}`, notBefore: addDays(new Date(), -30).toISOString(), notAfter: licenceNotAfter },
    company: { name: `${name} Co., Ltd.`, creditCode: '91440000000000000X' },
    servicePlan: 'Certificates for the health sector of the province.',
    materials: [{ title: 'MIIT licence scan', sha256: 'a'.repeat(64) }],
    certificates: [caCertificate(`${name} Root`).toPem()],
    platformAccessCertificate: caCertificate(`${name} platform access`, false).toPem(),
  };
}
