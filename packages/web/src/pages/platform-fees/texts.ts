/** The texts of the information-system and fee pages (namespace "platformFees"), Chinese first; English is typed against it. */
import { addTexts } from '../../i18n/index.js';

const zh = {
  nav: { systems: '信息系统', fees: '收费标准与结算' },
  categories: { 'public-health': '公共卫生', 'medical-care': '医疗服务', 'administrative-approval': '网上行政审批', 'tendering-procurement': '网上招标采购', other: '其他' },
  groups: { 'internal-staff': '内部人员', 'internal-organization': '内部机构', 'external-person': '外部个人', 'external-organization': '外部机构' },
  classes: { 'internal-staff': '内部人员证书', 'internal-organization': '内部机构证书', 'external-person': '外部个人证书', 'external-organization': '外部机构证书' },
  systems: {
    title: '信息系统', intro: '使用数字证书的卫生健康信息系统（第十五条），全国系统由国家办公室登记，省级系统由省办公室登记。', caption: '信息系统（{{n}} 个）',
    id: '系统标识', idHint: '小写字母、数字或“-”，最多 63 个字符，如 gd-emr', displayName: '系统名称', category: '系统类别', scope: '登记范围', scopeNational: '全国', scopeHint: '“national”（全国）或两位省份代码，如 GD',
    operator: '运营单位', operatorCode: '运营单位组织机构代码', operatorName: '运营单位名称', builderCode: '建设单位组织机构代码（与运营单位不同时填写）', builderName: '建设单位名称',
    codeHint: '9 位组织机构代码或 18 位统一社会信用代码', publicFacing: '面向公众', userGroups: '用户群体', acceptedCas: '认可的认证机构', acceptedCasHint: '已接入平台的认证机构名称，用逗号分隔，如 demo-sm2',
    description: '说明', register: '登记信息系统', registered: '已登记信息系统 {{id}}', statement: '结算单',
  },
  fees: {
    title: '收费标准与结算', intro: '证书首次签发费和年服务费（第十九条），由国家办公室制定，自生效日起适用至下一标准；结算单按单位或信息系统统计。',
    schedules: '收费标准', schedulesCaption: '收费标准（{{n}} 个，单位：元）', effectiveFrom: '生效日期', note: '说明', createdBy: '制定人', firstIssuance: '{{cls}}首次签发费（元）', annualService: '{{cls}}年服务费（元）',
    first: '首次签发', annual: '年服务', newSchedule: '制定新的收费标准', create: '发布收费标准', created: '已发布自 {{date}} 起生效的收费标准', none: '尚未制定收费标准',
    statement: '结算单', kind: '结算对象', kindSystem: '信息系统', kindUnit: '单位', system: '信息系统', unit: '单位组织机构代码', from: '起始日期', to: '截止日期（不含）', show: '查询结算单', csv: '导出 CSV',
    exporting: '正在导出 CSV……', exported: '已导出 {{file}}', totals: '合计 {{total}} 元：首次签发 {{first}} 元，年服务 {{annual}} 元', unpriced: '{{n}} 行无适用收费标准（需另行结算）', provisional: '{{n}} 行为暂定金额（分摊可能变化）',
    linesCaption: '{{subject}} 的结算明细（{{n}} 行）', date: '日期', charge: '费用', holder: '证书持有人', ca: '认证机构', cls: '证书类别', sharedBy: '分摊系统数', price: '单价（元）', amount: '金额（元）', payer: '付费方',
    payerKinds: { builder: '建设单位', 'using-unit': '使用单位', applicant: '申请人' },
  },
  validation: {
    required: '请填写{{field}}', id: '系统标识只能是小写字母、数字或“-”，以字母或数字开头，最多 63 个字符', code: '组织机构代码是 9 位，统一社会信用代码是 18 位（字母或数字）', scope: '登记范围是“national”或两位省份代码',
    groups: '请至少选择一个用户群体', cas: '请至少填写一个认证机构', price: '金额是不超过 100000 元的数字，最多两位小数', date: '请输入有效日期', past: '生效日期不能早于今天', period: '起始日期必须早于截止日期',
  },
  errors: {
    'platform.identity.organisation': '组织机构代码或统一社会信用代码的校验位不正确', 'platform.system.exists': '已有同一标识的信息系统', 'platform.system.ca-not-connected': '信息系统只能认可已接入平台的认证机构',
    'platform.fees.exists': '该日期已有收费标准；收费标准不能替换，请另定以后的生效日期', 'platform.fees.backdated': '收费标准不能追溯生效', 'platform.fees.unit-unknown': '没有任何信息系统或使用记录涉及该单位',
  },
};

export type PlatformFeesTexts = typeof zh;

const en: PlatformFeesTexts = {
  nav: { systems: 'Information systems', fees: 'Fees & statements' },
  categories: { 'public-health': 'Public health', 'medical-care': 'Medical care', 'administrative-approval': 'Online administrative approval', 'tendering-procurement': 'Online tendering & procurement', other: 'Other' },
  groups: { 'internal-staff': 'Internal staff', 'internal-organization': 'Internal organisations', 'external-person': 'External persons', 'external-organization': 'External organisations' },
  classes: { 'internal-staff': 'Internal staff', 'internal-organization': 'Internal organisation', 'external-person': 'External person', 'external-organization': 'External organisation' },
  systems: {
    title: 'Information systems', intro: 'The health information systems that use certificates (Art. 15): national systems are registered by the national office, provincial ones by the province\'s office.', caption: 'Information systems ({{n}})',
    id: 'System id', idHint: 'Lower-case letters, digits or "-", at most 63 characters, e.g. gd-emr', displayName: 'System name', category: 'Category', scope: 'Scope', scopeNational: 'National', scopeHint: '"national" or a two-letter province code, e.g. GD',
    operator: 'Operator', operatorCode: 'Operator\'s organisation code', operatorName: 'Operator\'s name', builderCode: 'Builder\'s organisation code (when not the operator)', builderName: 'Builder\'s name',
    codeHint: '9-character organisation code or 18-character unified social credit code', publicFacing: 'Serves the public', userGroups: 'User groups', acceptedCas: 'Accepted certification agencies', acceptedCasHint: 'Names of agencies connected to the platform, separated by commas, e.g. demo-sm2',
    description: 'Description', register: 'Register the system', registered: 'System {{id}} registered', statement: 'Statement',
  },
  fees: {
    title: 'Fees & statements', intro: 'The first-issuance and annual service fees of certificates (Art. 19), set by the national office, in force from their date until the next schedule; statements per unit or information system.',
    schedules: 'Fee schedules', schedulesCaption: 'Fee schedules ({{n}}, in yuan)', effectiveFrom: 'In force from', note: 'Note', createdBy: 'Set by', firstIssuance: '{{cls}}: first issuance (yuan)', annualService: '{{cls}}: annual service (yuan)',
    first: 'first issuance', annual: 'annual service', newSchedule: 'Set a new fee schedule', create: 'Publish the schedule', created: 'Schedule in force from {{date}} published', none: 'No fee schedule yet',
    statement: 'Statement', kind: 'Statement of', kindSystem: 'an information system', kindUnit: 'a unit', system: 'Information system', unit: 'Unit\'s organisation code', from: 'From date', to: 'To date (exclusive)', show: 'Show the statement', csv: 'Export CSV',
    exporting: 'Exporting CSV…', exported: '{{file}} exported', totals: 'Total {{total}} yuan: first issuance {{first}} yuan, annual service {{annual}} yuan', unpriced: '{{n}} line(s) with no schedule in force (settled by hand)', provisional: '{{n}} line(s) provisional (the split may still change)',
    linesCaption: 'Charges of {{subject}} ({{n}} lines)', date: 'Date', charge: 'Charge', holder: 'Holder', ca: 'Agency', cls: 'Certificate class', sharedBy: 'Shared by', price: 'Price (yuan)', amount: 'Amount (yuan)', payer: 'Payer',
    payerKinds: { builder: 'builder', 'using-unit': 'using unit', applicant: 'applicant' },
  },
  validation: {
    required: 'Please fill in {{field}}', id: 'A system id is lower-case letters, digits or "-", starting with a letter or digit, at most 63 characters', code: 'An organisation code has 9 characters, a unified social credit code 18 (letters or digits)', scope: 'The scope is "national" or a two-letter province code',
    groups: 'Choose at least one user group', cas: 'Name at least one certification agency', price: 'An amount is a number of at most 100000 yuan with at most two decimals', date: 'Enter a valid date', past: 'The schedule cannot take effect before today', period: 'The start date must be before the end date',
  },
  errors: {
    'platform.identity.organisation': 'The check character of the organisation code or unified social credit code is wrong', 'platform.system.exists': 'A system with this id exists', 'platform.system.ca-not-connected': 'A system accepts only agencies connected to the platform',
    'platform.fees.exists': 'A schedule takes effect on that date already; schedules are not replaced, choose a later date', 'platform.fees.backdated': 'A schedule cannot take effect in the past', 'platform.fees.unit-unknown': 'No information system or usage names this unit',
  },
};

addTexts('platformFees', { 'zh-CN': zh, en });
