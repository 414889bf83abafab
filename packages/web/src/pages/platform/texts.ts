/** The platform pages' own texts (namespace "platform"), Chinese first; English is typed against it. */
import { addTexts } from '../../i18n/index.js';

const zh = {
  nav: { section: '管理平台', login: '平台登录', dashboard: '全国统计', cas: '认证机构', supervision: '检查与评估', complaints: '投诉处理' },
  roles: { national: '国家卫生信息化办公室', provincial: '省级卫生信息化办公室（{{province}}）', ca: '认证机构 {{ca}}', auditor: '审计员' },
  who: '平台身份：{{id}}，{{role}}',
  signOut: '退出平台',
  login: {
    title: '登录数字证书服务管理平台',
    intro: '平台使用其自己的访问令牌（国家办公室在平台上签发：国家、省级、认证机构、审计员）。令牌只保存在本浏览器标签页中。',
    token: '平台访问令牌',
    submit: '登录',
    bad: '平台不认识此令牌；请核对后重试',
    signedIn: '已登录平台：{{id}}',
  },
  status: {
    applied: '已申请', 'province-reviewed': '省级已审核', tested: '测试通过', connected: '已接入', suspended: '已暂停', terminated: '已终止', rejected: '已驳回',
    planned: '已计划', done: '已完成', open: '整改中', passed: '已通过', expired: '已逾期（终止）',
    received: '已受理', handling: '处理中', resolved: '已办结',
  },
  fields: {
    name: '名称', displayName: '机构名称', status: '状态', homeProvince: '所在省份', provinces: '服务省份', licence: '电子认证服务许可证', licenceUntil: '许可证有效期至',
    company: '公司', servicePlan: '服务方案', materials: '申请材料', updatedAt: '更新时间', createdAt: '申请时间', at: '时间', by: '操作人', from: '原状态', to: '新状态', note: '说明',
    ca: '认证机构', province: '省份', plannedFor: '计划日期', findings: '检查发现（每行一条）', findingsList: '发现', recordedAt: '记录时间', scope: '范围',
    passed: '评估结论', deadline: '整改期限', openedAt: '下达时间', closedAt: '关闭时间', category: '类别', subject: '主题', complainant: '投诉人', handler: '处理办公室',
    outcome: '处理结果', filedAt: '提交时间', description: '内容', serial: '证书序列号', periodFrom: '起始日期', periodTo: '截止日期', bucket: '时间粒度', evaluationFindings: '评估发现（每行一条；不通过时必填）',
  },
  cas: {
    title: '认证机构', intro: '接入平台的电子认证服务机构及其接入、监管状态。', filterStatus: '状态', filterProvince: '省份', caption: '认证机构（{{n}} 家）', licenceExpired: '许可证已过期',
    provinceHint: '两位字母代码，如 GD', open: '查看 {{name}}',
  },
  ca: {
    back: '返回认证机构列表', history: '状态历史', facts: '基本信息', conformance: '接入测试报告', noReport: '尚无接入测试报告', reportPassed: '测试通过', reportFailed: '测试未通过：{{n}} 项问题',
    reportSource: { automated: '平台自动测试', offline: '线下测试报告' }, testedAt: '测试时间：{{at}}（{{source}}）', checks: '各项检查', check: '检查项', faults: '问题数', faultList: '问题',
    samples: '样本证书', sampleKind: '类型', good: '正常', revoked: '已吊销', ocsp: 'OCSP', crl: 'CRL', query: '查询接口', listed: '已列入', notListed: '未列入', certStatus: { good: '正常', revoked: '已吊销', unknown: '未知' },
    actions: '操作', review: '省级审核', reviewNote: '审核意见', forward: '审核通过并报送国家办公室', reject: '驳回', run: '运行接入测试', running: '正在测试 {{name}} 的 CRL、OCSP、查询接口和同步数据……已用 {{s}} 秒',
    approve: '批准接入', suspend: '暂停', resume: '恢复', terminate: '终止', decisionNote: '决定说明', done: '已完成：{{status}}',
    planInspection: '计划检查', evaluate: '年度评估', evalPassed: '符合要求', evalFailed: '不符合要求（下达整改通知，期限一年）', evaluated: '评估已记录', inspectionPlanned: '检查已计划',
    checkNames: { inputs: '测试输入', chain: '证书链', profile: '证书格式', crl: 'CRL', ocsp: 'OCSP', query: '查询接口', sync: '数据同步' },
    confirmTerminate: '确定终止该认证机构的服务吗？此操作会将其移出信任列表。',
  },
  sup: {
    title: '检查与评估', intro: '监督检查（第十条）、评估与整改（第二十一条）：整改期满仍不符合要求的机构将被终止。',
    inspections: '监督检查', evaluations: '评估', rectifications: '整改通知', record: '记录检查结果', recorded: '检查结果已记录', daysLeft: '剩余 {{n}} 天', overdue: '已过期限',
    sweep: '立即处理到期整改', swept: '已终止 {{n}} 家到期未整改的机构',
  },
  complaints: {
    title: '投诉处理', intro: '用户对认证机构服务质量的投诉（第十一条），由机构所在省办公室或国家办公室处理。', filterCa: '认证机构', filterStatus: '状态', caption: '投诉（{{n}} 件）',
    open: '处理', take: '受理', resolve: '办结', reject: '不予受理', addNote: '添加备注', outcomeLabel: '处理结果（办结或不予受理时必填）', noteLabel: '备注',
    history: '处理记录', contact: '联系方式', saved: '已保存', close: '关闭', export: '导出统计 CSV',
    categories: { issuance: '证书签发', renewal: '证书更新', revocation: '证书吊销', 'pin-unlock': '密码解锁', 'key-recovery': '密钥恢复', availability: '服务可用性', fees: '收费', conduct: '服务态度', other: '其他' },
    kinds: { unit: '单位', holder: '证书持有人' },
    by: { complainant: '投诉人' },
    actions: { received: '受理登记', handling: '开始处理', resolved: '办结', rejected: '不予受理', note: '办公室备注', response: '认证机构回复' },
  },
  dash: {
    title: '全国证书统计', intro: '各认证机构通过平台同步的签发、更新、吊销数据，以及 OCSP/CRL 服务可用性。', apply: '更新', overTime: '签发量趋势', byCa: '按认证机构', byProvince: '按省份', byClass: '按证书类别',
    availability: '认证机构服务可用性（%）', issued: '签发', renewed: '更新', revoked: '吊销', active: '有效', uptime: '可用率', csvStats: '导出统计 CSV', csvSeries: '导出趋势 CSV', csvProbes: '导出可用性 CSV',
    buckets: { day: '按日', month: '按月', year: '按年' }, totals: '合计：签发 {{issued}}，更新 {{renewed}}，吊销 {{revoked}}，有效 {{active}}', noData: '所选期间没有数据', chartOf: '图表：{{title}}',
    tableOf: '数据表：{{title}}', period: '期间', series: '系列', probes: '探测次数', p95: 'P95 延迟（毫秒）', kind: '服务', unknown: '（未标明）',
    classes: { person: '个人', organisation: '机构', device: '设备', service: '服务（OCSP、时间戳）', ca: 'CA 证书', other: '其他' },
  },
  validation: {
    required: '请填写{{field}}', province: '省份是两位大写字母，如 GD', date: '请输入有效日期', period: '起始日期不能晚于截止日期', findings: '不符合要求的评估必须写明发现', past: '计划日期不能早于今天',
  },
  errors: {
    'platform.scope.province': '超出本省范围：只能处理本省的认证机构', 'platform.scope.complaint': '此投诉由其他办公室处理', 'platform.role': '当前平台角色不能执行此操作',
    'platform.ca.status': '认证机构当前状态不允许此操作', 'platform.conformance.running': '该机构的接入测试正在进行中', 'platform.complaint.closed': '投诉已关闭',
  },
  yes: '是', no: '否', none: '无', all: '全部',
};

export type PlatformTexts = typeof zh;

const en: PlatformTexts = {
  nav: { section: 'Management platform', login: 'Platform sign-in', dashboard: 'National statistics', cas: 'Certification agencies', supervision: 'Inspections & evaluations', complaints: 'Complaints' },
  roles: { national: 'National health informatization office', provincial: 'Provincial office ({{province}})', ca: 'CA {{ca}}', auditor: 'auditor' },
  who: 'Platform identity: {{id}}, {{role}}',
  signOut: 'Leave platform',
  login: {
    title: 'Sign in to the certificate service management platform',
    intro: 'The platform has its own access tokens (minted on the platform by the national office: national, provincial, CA, auditor). The token stays in this browser tab only.',
    token: 'Platform access token',
    submit: 'Sign in',
    bad: 'The platform does not know this token; check it and retry',
    signedIn: 'Signed in to the platform: {{id}}',
  },
  status: {
    applied: 'Applied', 'province-reviewed': 'Reviewed by province', tested: 'Test passed', connected: 'Connected', suspended: 'Suspended', terminated: 'Terminated', rejected: 'Rejected',
    planned: 'Planned', done: 'Done', open: 'Rectifying', passed: 'Passed', expired: 'Expired (terminated)',
    received: 'Received', handling: 'Handling', resolved: 'Resolved',
  },
  fields: {
    name: 'Name', displayName: 'Agency', status: 'Status', homeProvince: 'Home province', provinces: 'Provinces served', licence: 'Certification service licence', licenceUntil: 'Licence valid until',
    company: 'Company', servicePlan: 'Service plan', materials: 'Application materials', updatedAt: 'Updated', createdAt: 'Applied', at: 'Time', by: 'By', from: 'From', to: 'To', note: 'Note',
    ca: 'Certification agency', province: 'Province', plannedFor: 'Planned for', findings: 'Findings (one per line)', findingsList: 'Findings', recordedAt: 'Recorded', scope: 'Scope',
    passed: 'Result', deadline: 'Rectification deadline', openedAt: 'Ordered', closedAt: 'Closed', category: 'Category', subject: 'Subject', complainant: 'Complainant', handler: 'Handling office',
    outcome: 'Outcome', filedAt: 'Filed', description: 'Description', serial: 'Certificate serial', periodFrom: 'From date', periodTo: 'To date', bucket: 'Granularity', evaluationFindings: 'Findings (one per line; required when failing)',
  },
  cas: {
    title: 'Certification agencies', intro: 'The certification service agencies on the platform, with their admission and supervision status.', filterStatus: 'Status', filterProvince: 'Province', caption: 'Certification agencies ({{n}})', licenceExpired: 'licence expired',
    provinceHint: 'Two-letter code, e.g. GD', open: 'Open {{name}}',
  },
  ca: {
    back: 'Back to the agencies', history: 'Status history', facts: 'Details', conformance: 'Conformance test report', noReport: 'No conformance test report yet', reportPassed: 'Test passed', reportFailed: 'Test failed: {{n}} fault(s)',
    reportSource: { automated: 'automated test by the platform', offline: 'offline test report' }, testedAt: 'Tested {{at}} ({{source}})', checks: 'Checks', check: 'Check', faults: 'Faults', faultList: 'Faults',
    samples: 'Sample certificates', sampleKind: 'Kind', good: 'good', revoked: 'revoked', ocsp: 'OCSP', crl: 'CRL', query: 'Query interface', listed: 'listed', notListed: 'not listed', certStatus: { good: 'good', revoked: 'revoked', unknown: 'unknown' },
    actions: 'Actions', review: 'Provincial review', reviewNote: 'Review note', forward: 'Approve and forward to the national office', reject: 'Reject', run: 'Run the conformance test', running: 'Testing the CRL, OCSP, query interface and sync data of {{name}}… {{s}} s so far',
    approve: 'Approve connection', suspend: 'Suspend', resume: 'Resume', terminate: 'Terminate', decisionNote: 'Decision note', done: 'Done: {{status}}',
    planInspection: 'Plan an inspection', evaluate: 'Annual evaluation', evalPassed: 'Conforms', evalFailed: 'Does not conform (orders rectification within one year)', evaluated: 'Evaluation recorded', inspectionPlanned: 'Inspection planned',
    checkNames: { inputs: 'Test inputs', chain: 'Certificate chain', profile: 'Certificate format', crl: 'CRL', ocsp: 'OCSP', query: 'Query interface', sync: 'Data sync' },
    confirmTerminate: 'Terminate this agency\'s service? It leaves the trust list.',
  },
  sup: {
    title: 'Inspections & evaluations', intro: 'Inspections (Art. 10), evaluations and rectification (Art. 21): an agency still non-conforming when its deadline passes is terminated.',
    inspections: 'Inspections', evaluations: 'Evaluations', rectifications: 'Rectification orders', record: 'Record the findings', recorded: 'Findings recorded', daysLeft: '{{n}} days left', overdue: 'Deadline passed',
    sweep: 'Process passed deadlines now', swept: '{{n}} agencies past their deadline terminated',
  },
  complaints: {
    title: 'Complaints', intro: 'Complaints about the agencies\' service quality (Art. 11), handled by the office of the agency\'s home province or the national office.', filterCa: 'Certification agency', filterStatus: 'Status', caption: 'Complaints ({{n}})',
    open: 'Handle', take: 'Take up', resolve: 'Resolve', reject: 'Reject', addNote: 'Add note', outcomeLabel: 'Outcome (required to resolve or reject)', noteLabel: 'Note',
    history: 'History', contact: 'Contact', saved: 'Saved', close: 'Close', export: 'Export counts as CSV',
    categories: { issuance: 'Issuance', renewal: 'Renewal', revocation: 'Revocation', 'pin-unlock': 'PIN unblock', 'key-recovery': 'Key recovery', availability: 'Availability', fees: 'Fees', conduct: 'Conduct', other: 'Other' },
    kinds: { unit: 'Unit', holder: 'Certificate holder' },
    by: { complainant: 'complainant' },
    actions: { received: 'Received', handling: 'Taken up', resolved: 'Resolved', rejected: 'Rejected', note: 'Office note', response: 'Agency response' },
  },
  dash: {
    title: 'National certificate statistics', intro: 'Issuance, renewal and revocation reported by each agency through the platform, and the availability of their OCSP/CRL services.', apply: 'Update', overTime: 'Issuance over time', byCa: 'By agency', byProvince: 'By province', byClass: 'By certificate class',
    availability: 'Agency service availability (%)', issued: 'Issued', renewed: 'Renewed', revoked: 'Revoked', active: 'Active', uptime: 'Uptime', csvStats: 'Export statistics CSV', csvSeries: 'Export trend CSV', csvProbes: 'Export availability CSV',
    buckets: { day: 'Daily', month: 'Monthly', year: 'Yearly' }, totals: 'Total: {{issued}} issued, {{renewed}} renewed, {{revoked}} revoked, {{active}} active', noData: 'No data in this period', chartOf: 'Chart: {{title}}',
    tableOf: 'Data: {{title}}', period: 'Period', series: 'Series', probes: 'Probes', p95: 'P95 latency (ms)', kind: 'Service', unknown: '(not given)',
    classes: { person: 'Persons', organisation: 'Organisations', device: 'Devices', service: 'Services (OCSP, time-stamping)', ca: 'CA certificates', other: 'Other' },
  },
  validation: {
    required: 'Please fill in {{field}}', province: 'A province is two capital letters, e.g. GD', date: 'Enter a valid date', period: 'The start date cannot be after the end date', findings: 'A failing evaluation must name its findings', past: 'The planned date cannot be before today',
  },
  errors: {
    'platform.scope.province': 'Outside your province: you can act only on your province\'s agencies', 'platform.scope.complaint': 'Another office handles this complaint', 'platform.role': 'Your platform role cannot do this',
    'platform.ca.status': 'The agency\'s current status does not allow this', 'platform.conformance.running': 'A conformance test of this agency is already running', 'platform.complaint.closed': 'The complaint is closed',
  },
  yes: 'Yes', no: 'No', none: 'None', all: 'All',
};

addTexts('platform', { 'zh-CN': zh, en });
