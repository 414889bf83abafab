/**
 * Names of certificate fields in Chinese and English, for messages, reports and the profile
 * documentation: key usage bits, extended key usage purposes, identity fields, subject attributes.
 */
import { OID } from '../oids.js';
import type { KeyUsageName } from '../x509/extensions.js';
import type { Bilingual, IdentityField, PurposeName } from './types.js';

/** Extended key usage purposes: OID and names. */
export const PURPOSES: Record<PurposeName, { oid: string; label: Bilingual }> = {
  serverAuth: { oid: OID.kpServerAuth, label: { 'zh-CN': 'TLS服务端认证', en: 'TLS server authentication' } },
  clientAuth: { oid: OID.kpClientAuth, label: { 'zh-CN': 'TLS客户端认证', en: 'TLS client authentication' } },
  emailProtection: { oid: OID.kpEmailProtection, label: { 'zh-CN': '安全电子邮件', en: 'E-mail protection' } },
  codeSigning: { oid: OID.kpCodeSigning, label: { 'zh-CN': '代码签名', en: 'Code signing' } },
  timeStamping: { oid: OID.kpTimeStamping, label: { 'zh-CN': '时间戳', en: 'Time stamping' } },
  ocspSigning: { oid: OID.kpOcspSigning, label: { 'zh-CN': 'OCSP签名', en: 'OCSP signing' } },
};

/** The purpose name of an EKU OID, if it is one we name. */
export function purposeName(oid: string): PurposeName | undefined {
  return (Object.keys(PURPOSES) as PurposeName[]).find((p) => PURPOSES[p].oid === oid);
}

/** Key usage bits in Chinese and English. */
export const KEY_USAGE_LABELS: Record<KeyUsageName, Bilingual> = {
  digitalSignature: { 'zh-CN': '数字签名', en: 'Digital signature' },
  nonRepudiation: { 'zh-CN': '不可否认', en: 'Non-repudiation' },
  keyEncipherment: { 'zh-CN': '密钥加密', en: 'Key encipherment' },
  dataEncipherment: { 'zh-CN': '数据加密', en: 'Data encipherment' },
  keyAgreement: { 'zh-CN': '密钥协商', en: 'Key agreement' },
  keyCertSign: { 'zh-CN': '证书签名', en: 'Certificate signing' },
  crlSign: { 'zh-CN': 'CRL签名', en: 'CRL signing' },
  encipherOnly: { 'zh-CN': '仅加密', en: 'Encipher only' },
  decipherOnly: { 'zh-CN': '仅解密', en: 'Decipher only' },
};

/** Identity fields of GB/T 20518 in Chinese and English, with the OID of the extension carrying each. */
export const IDENTITY_LABELS: Record<IdentityField, Bilingual & { oid: string }> = {
  residentId: { 'zh-CN': '公民身份号码', en: 'Resident identity card number', oid: OID.identityCode },
  militaryOfficerId: { 'zh-CN': '军官证号', en: 'Military officer card number', oid: OID.identityCode },
  passportNumber: { 'zh-CN': '护照号', en: 'Passport number', oid: OID.identityCode },
  insuranceNumber: { 'zh-CN': '社会保险号', en: 'Social insurance number', oid: OID.insuranceNumber },
  icRegistrationNumber: { 'zh-CN': '工商注册号', en: 'Business registration number', oid: OID.icRegistrationNumber },
  organizationCode: { 'zh-CN': '组织机构代码', en: 'Organisation code', oid: OID.organizationCode },
  taxationNumber: { 'zh-CN': '税号', en: 'Taxation number', oid: OID.taxationNumber },
  unifiedSocialCreditCode: { 'zh-CN': '统一社会信用代码', en: 'Unified social credit code', oid: OID.unifiedSocialCreditCode },
};

/** Subject attribute names in Chinese and English. */
export const ATTRIBUTE_LABELS: Record<string, Bilingual> = {
  C: { 'zh-CN': '国家', en: 'country' },
  ST: { 'zh-CN': '省份', en: 'state or province' },
  L: { 'zh-CN': '城市', en: 'locality' },
  O: { 'zh-CN': '机构', en: 'organisation' },
  OU: { 'zh-CN': '部门', en: 'organisational unit' },
  CN: { 'zh-CN': '通用名', en: 'common name' },
  title: { 'zh-CN': '职务', en: 'title' },
  serialNumber: { 'zh-CN': '序列号', en: 'serial number' },
  emailAddress: { 'zh-CN': '电子邮件', en: 'e-mail address' },
};
