/** The bulk import's texts (namespace "bulk"), Chinese first; English is typed against it. */
import { addTexts } from '../../i18n/index.js';

const zh = {
  nav: '批量导入申请',
  sep: '；',
  title: '批量导入申请',
  intro: '上传 CSV 文件（UTF-8，第一行为列名），每行一位申请人，逐行录入为待审核的申请；每条申请仍需另一位审核员批准后签发。',
  columns: '列：name（姓名，必填）、resident_id（居民身份证号）、organization（单位）、department（科室）、profile（证书模板，必填）、email、phone、csr（必填：PEM 格式的证书请求，或同时选择的 CSR 文件的文件名）。',
  file: 'CSV 文件', csrFiles: 'CSR 文件（可多选，在 csr 列中按文件名引用）', check: '检查文件', submit: '录入 {{n}} 条有效申请', submitting: '正在录入：{{done}} / {{n}}',
  caption: '导入结果（{{n}} 行）', row: '行', name: '姓名', profile: '证书模板', result: '结果', ready: '待录入', created: '已录入：', failed: '失败：',
  summary: '{{ok}} 条有效，{{bad}} 条有误', done: '已录入 {{ok}} 条申请，{{bad}} 条未录入', open: '查看申请',
  errors: {
    empty: '文件中没有申请人行（第一行应为列名）', quote: '文件中有未闭合的引号', unknown: '不认识的列：{{cols}}', missing: '缺少必需的列：{{cols}}', noFile: '请选择 CSV 文件',
    name: '缺少姓名', profile: '证书模板“{{profile}}”不存在', noProfile: '缺少证书模板', residentId: '居民身份证号校验位不正确', email: '电子邮箱格式不正确', csr: '缺少证书请求', csrPem: '证书请求不是 PEM 格式的 PKCS#10',
    csrFile: '没有选择名为“{{file}}”的 CSR 文件', rowLine: '第 {{row}} 行：{{message}}',
  },
};

export type BulkTexts = typeof zh;

const en: BulkTexts = {
  nav: 'Bulk import',
  sep: '; ',
  title: 'Bulk import of applications',
  intro: 'Upload a CSV file (UTF-8, column names in the first line), one applicant per row; each row is entered as an application awaiting review, and a second officer still approves each before it is issued.',
  columns: 'Columns: name (required), resident_id, organization, department, profile (required), email, phone, csr (required: the PEM certificate request, or the file name of a CSR file chosen alongside).',
  file: 'CSV file', csrFiles: 'CSR files (several allowed, named in the csr column)', check: 'Check the file', submit: 'Enter {{n}} valid applications', submitting: 'Entering: {{done}} / {{n}}',
  caption: 'Import result ({{n}} rows)', row: 'Row', name: 'Name', profile: 'Profile', result: 'Result', ready: 'ready', created: 'entered: ', failed: 'failed: ',
  summary: '{{ok}} valid, {{bad}} with errors', done: '{{ok}} applications entered, {{bad}} not entered', open: 'Open the application',
  errors: {
    empty: 'The file has no applicant rows (the first line holds the column names)', quote: 'The file has an unterminated quote', unknown: 'Unknown columns: {{cols}}', missing: 'Required columns missing: {{cols}}', noFile: 'Choose a CSV file',
    name: 'name is missing', profile: 'no profile "{{profile}}"', noProfile: 'profile is missing', residentId: 'the resident ID\'s check character is wrong', email: 'the e-mail address is malformed', csr: 'the certificate request is missing', csrPem: 'the certificate request is not a PEM PKCS#10 request',
    csrFile: 'no CSR file named "{{file}}" was chosen', rowLine: 'Row {{row}}: {{message}}',
  },
};

addTexts('bulk', { 'zh-CN': zh, en });
