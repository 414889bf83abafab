/** The public complaint form's texts (namespace "complaint"), Chinese first; English is typed against it. */
import { addTexts } from '../../i18n/index.js';

const zh = {
  nav: { complaint: '服务投诉' },
  title: '电子认证服务投诉',
  intro: '使用单位和证书持有人可以对电子认证服务机构的服务质量提出投诉（第十一条）。投诉由该机构所在省的卫生信息化办公室或国家办公室处理。请保存好提交后显示的受理编号和查询码，凭它们查询处理进度。',
  form: {
    heading: '提交投诉', ca: '被投诉的认证机构', caHint: '平台上的机构名称，如 demo-sm2', kind: '投诉人身份', kinds: { holder: '证书持有人', unit: '使用单位' }, name: '联系人姓名', organisation: '单位名称', organisationHint: '以单位身份投诉时必填',
    phone: '联系电话', email: '电子邮箱', contactHint: '电话和电子邮箱至少填写一项', category: '投诉类别', subject: '主题', description: '投诉内容', serial: '相关证书序列号（可选）', serialHint: '十六进制小写，如 1a2b3c', submit: '提交投诉',
  },
  categories: { issuance: '证书签发', renewal: '证书更新', revocation: '证书吊销', 'pin-unlock': '密码解锁', 'key-recovery': '密钥恢复', availability: '服务可用性', fees: '收费', conduct: '服务态度', other: '其他' },
  receipt: {
    heading: '投诉已受理', id: '受理编号', code: '查询码', keep: '请记下受理编号和查询码：查询码只显示这一次，平台不保存其明文。', handler: '处理办公室：{{handler}}',
  },
  lookup: { heading: '查询处理进度', id: '受理编号', code: '查询码', submit: '查询', status: '状态', outcome: '处理结果', filed: '提交时间', updated: '最近更新', closed: '办结时间', unknown: '没有与此受理编号和查询码相符的投诉' },
  status: { received: '已受理', handling: '处理中', resolved: '已办结', rejected: '不予受理' },
  validation: {
    required: '请填写{{field}}', phone: '请输入有效的电话号码', email: '请输入有效的电子邮箱', contact: '电话和电子邮箱至少填写一项', organisation: '以单位身份投诉时须填写单位名称', serial: '序列号只能是十六进制小写字母和数字',
    tooLong: '{{field}}最多 {{max}} 个字符', id: '受理编号的格式不正确', code: '查询码是 32 位十六进制字符',
  },
  errors: { 'platform.complaint.ca': '平台上没有这个已接入的认证机构', 'platform.complaint.rate-limited': '提交过于频繁，请稍后再试', 'platform.none': '本服务未连接管理平台，暂不能受理投诉' },
};

export type ComplaintTexts = typeof zh;

const en: ComplaintTexts = {
  nav: { complaint: 'Service complaint' },
  title: 'Complaint about a certification service',
  intro: 'Using units and certificate holders may complain about a certification service agency\'s service quality (Art. 11). The health informatization office of the agency\'s province, or the national office, handles it. Keep the complaint number and the receipt code shown after sending: with them you can see how it stands.',
  form: {
    heading: 'File a complaint', ca: 'Certification agency', caHint: 'Its name on the platform, e.g. demo-sm2', kind: 'You complain as', kinds: { holder: 'certificate holder', unit: 'using unit' }, name: 'Contact name', organisation: 'Organisation', organisationHint: 'Required when complaining as a unit',
    phone: 'Telephone', email: 'E-mail', contactHint: 'Give a telephone number or an e-mail address, or both', category: 'Category', subject: 'Subject', description: 'Complaint', serial: 'Certificate serial (optional)', serialHint: 'Lower-case hex, e.g. 1a2b3c', submit: 'Send the complaint',
  },
  categories: { issuance: 'Issuance', renewal: 'Renewal', revocation: 'Revocation', 'pin-unlock': 'PIN unblock', 'key-recovery': 'Key recovery', availability: 'Availability', fees: 'Fees', conduct: 'Conduct', other: 'Other' },
  receipt: {
    heading: 'Complaint received', id: 'Complaint number', code: 'Receipt code', keep: 'Write down the complaint number and the receipt code: the code is shown only this once and the platform does not keep it readable.', handler: 'Handling office: {{handler}}',
  },
  lookup: { heading: 'See how a complaint stands', id: 'Complaint number', code: 'Receipt code', submit: 'Look up', status: 'Status', outcome: 'Outcome', filed: 'Filed', updated: 'Last update', closed: 'Closed', unknown: 'No complaint matches this number and receipt code' },
  status: { received: 'Received', handling: 'Being handled', resolved: 'Resolved', rejected: 'Rejected' },
  validation: {
    required: 'Please fill in {{field}}', phone: 'Enter a valid telephone number', email: 'Enter a valid e-mail address', contact: 'Give a telephone number or an e-mail address', organisation: 'A unit names its organisation', serial: 'A serial is lower-case hex digits only',
    tooLong: '{{field}} has at most {{max}} characters', id: 'This is not a complaint number', code: 'A receipt code is 32 hex characters',
  },
  errors: { 'platform.complaint.ca': 'No connected certification agency of this name is on the platform', 'platform.complaint.rate-limited': 'Too many complaints sent from here; try again later', 'platform.none': 'This service is not connected to the management platform and cannot take complaints' },
};

addTexts('complaint', { 'zh-CN': zh, en });
