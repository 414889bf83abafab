/** The interface's Chinese texts (the default language). Every key here must exist in en.ts too (type-checked there). */
const zhCN = {
  app: { title: '卫生电子认证服务', skip: '跳到主要内容', language: '语言', loading: '正在加载…', notFound: '页面不存在', home: '首页' },
  nav: {
    sections: { public: '公众服务', holder: '我的证书', ra: '注册审核', admin: '系统管理', audit: '审计' },
    search: '证书查询', crls: '证书撤销列表下载', login: '登录', logout: '退出登录',
    me: '我的证书', queue: '申请队列', newApplication: '录入申请', certificates: '证书状态管理', lossReports: '挂失处理',
    unblocks: 'PIN 解锁请求', recoveries: '密钥恢复请求', cas: 'CA 与密钥', profiles: '证书模板', officers: '操作员与角色', audit: '审计日志',
  },
  roles: { admin: '管理员', officer: '注册审核员', auditor: '审计员', holder: '证书持有人', public: '公众' },
  user: { signedInAs: '当前用户：{{id}}（{{role}}）' },
  common: {
    search: '查询', reset: '重置', submit: '提交', cancel: '取消', save: '保存', confirm: '确认', close: '关闭', refresh: '刷新',
    next: '下一页', previous: '上一页', page: '第 {{n}} 页', none: '没有记录', all: '全部', yes: '是', no: '否', actions: '操作',
    exportCsv: '导出 CSV', exporting: '正在导出：已读取 {{n}} 条', working: '正在处理…', done: '完成', details: '详情', required: '（必填）',
    download: '下载', optional: '（选填）', ca: '认证机构', sortAsc: '升序', sortDesc: '降序', of: '{{a}} / {{b}}',
  },
  fields: {
    serial: '序列号', subject: '主题', issuer: '签发 CA', profile: '证书模板', status: '状态', notBefore: '生效时间', notAfter: '到期时间',
    issuedAt: '签发时间', revokedAt: '撤销时间', reason: '原因', identity: '证件号码', org: '单位', comment: '备注',
    name: '姓名', organization: '单位', department: '部门', title: '职务', phone: '电话', email: '电子邮箱', residentId: '居民身份证号码',
    csr: '证书请求（PKCS#10，PEM）', csrFile: '或选择证书请求文件', materials: '申请材料（扫描件、表格）', kind: '申请类型', state: '状态',
    enteredBy: '录入人', enteredAt: '录入时间', decidedBy: '审核人', decidedAt: '审核时间', decisionReason: '审核意见', id: '编号',
    token: '访问令牌', certificate: '证书（PEM）', privateKey: '私钥（PKCS#8 PEM）', from: '起始时间', to: '截止时间', actor: '操作者',
    action: '操作', target: '对象', at: '时间', seq: '序号', algorithm: '算法', keyProtection: '密钥保护', role: '角色', cas: '所属 CA',
    holder: '持有人', requestedBy: '申请人', requestedAt: '申请时间', officerId: '账号', displayName: '名称', defaultDays: '默认有效期（天）',
    previousSerial: '原证书序列号', keyAlgorithms: '密钥算法', validity: '有效期', crl: 'CRL', ocsp: 'OCSP 地址', disabled: '已停用',
  },
  status: { valid: '有效', hold: '冻结（挂失）', revoked: '已撤销', submitted: '待审核', issued: '已签发', rejected: '已拒绝', pending: '待处理', authorised: '已授权', approved: '已批准', delivered: '已交付' },
  kind: { new: '新申请', renewal: '更新', rekey: '更换密钥', reissue: '补发' },
  reasons: {
    unspecified: '未说明', keyCompromise: '密钥泄露（介质丢失）', cACompromise: 'CA 密钥泄露', affiliationChanged: '隶属关系变更', superseded: '已被替代（介质损坏）',
    cessationOfOperation: '停止使用', certificateHold: '冻结', removeFromCRL: '从 CRL 移除', privilegeWithdrawn: '权限撤销', aACompromise: 'AA 密钥泄露',
  },
  validation: {
    required: '请填写{{field}}', email: '电子邮箱格式不正确', residentId: '居民身份证号码应为 18 位，且校验位正确', csr: '证书请求应为 PEM 格式（以 -----BEGIN CERTIFICATE REQUEST----- 开头）',
    serial: '序列号只能包含十六进制数字', tooLarge: '文件“{{name}}”超过 {{max}} MB', date: '请输入有效的日期时间', id: '账号只能包含字母、数字、点、横线和下划线',
    pem: '应为 PEM 格式', formHasErrors: '表单有 {{n}} 处错误，请检查标出的字段',
  },
  errors: {
    generic: '请求失败（{{status}}）', network: '无法连接服务，请检查网络后重试', server: '服务内部错误，请稍后重试或联系管理员',
    unauthenticated: '登录已失效或凭据无效，请重新登录', forbidden: '您没有执行此操作的权限', notFound: '未找到请求的对象', conflict: '对象状态已变化，无法执行此操作',
    badRequest: '请求内容有误', rule: '不符合证书模板规则', tooLarge: '上传内容过大', rateLimited: '尝试次数过多，请稍后再试', detail: '服务返回：{{message}}',
    sm2Browser: '浏览器不支持 SM2 签名：SM2 证书请用令牌登录或命令行 hpki login', keyMismatch: '无法用该私钥签名：请确认私钥为 PKCS#8 PEM 且与证书匹配',
  },
  login: {
    title: '登录', intro: '使用与 API 相同的凭据：访问令牌，或证书与私钥（私钥只在本浏览器内使用，不会上传）。',
    withToken: '使用访问令牌', withCertificate: '使用证书登录', signIn: '登录', signingIn: '正在登录…', welcome: '欢迎，{{id}}',
  },
  search: { title: '证书查询与下载', intro: '按序列号、主题、证件号码、单位或状态查询本机构签发的证书。', results: '查询结果', subjectHint: '例如 CN=张三 或 心内科', pem: 'PEM', der: 'DER', chainPem: '证书链（PEM）', chainP7c: '证书链（PKCS#7）' },
  crls: { title: '证书撤销列表（黑名单）下载', intro: '各 CA 当前的完整 CRL 与增量 CRL；在线查询请使用 OCSP。', full: '完整 CRL', delta: '增量 CRL', caCert: 'CA 证书', published: '发布于 {{at}}', notPublished: '尚未发布' },
  queue: { title: '申请队列', intro: '待审核的申请按录入先后排列。', open: '审核' },
  application: {
    title: '申请 {{id}}', approve: '批准并签发', reject: '拒绝', rejectReason: '拒绝原因', approveComment: '审核意见', issuing: '正在签发证书…',
    issued: '证书已签发，序列号 {{serial}}', rejected: '申请已拒绝', materials: '申请材料', noMaterials: '无申请材料', applicant: '申请人信息', events: '处理记录',
    makerChecker: '录入人不能审核自己录入的申请，请由另一位审核员审核。',
  },
  newApp: { title: '录入证书申请', intro: '录入申请人身份信息、上传申请材料并提交证书请求；提交后由另一位审核员审核。', submitted: '申请已提交，编号 {{id}}', uploading: '正在提交申请与材料…' },
  certs: {
    title: '证书状态管理', intro: '按序列号找到证书后撤销、冻结或解冻。', lookup: '查找', revoke: '撤销', hold: '冻结', release: '解冻', revokeReason: '撤销原因',
    revoked: '证书已撤销', held: '证书已冻结', released: '证书已解冻', confirmRevoke: '撤销不可恢复。确认撤销证书 {{serial}}？',
  },
  loss: { title: '挂失处理', intro: '持有人挂失后证书处于冻结状态：确认丢失则撤销（密钥泄露），找回介质则解冻。', revokeLost: '确认丢失并撤销', found: '已找回，解冻' },
  unblocks: { title: 'PIN 解锁请求', intro: '证书介质（USB Key）的 PIN 解锁请求；授权后持有人用返回的应答解锁。', authorise: '授权解锁', reject: '拒绝', rejectReason: '拒绝原因', authorised: '已授权', rejectedDone: '已拒绝' },
  recoveries: { title: '密钥恢复请求', intro: '托管加密密钥的恢复需多位不同审核员批准；录入人不能批准自己的请求。', approve: '批准', reject: '拒绝', approvals: '已批准 {{n}} / {{m}}', approved: '已批准', rejectedDone: '已拒绝' },
  cas: { title: 'CA 与密钥', intro: '本系统的认证机构、各级 CA 证书与密钥保护方式、CRL 与 OCSP 状态。', root: '根 CA', issuing: '签发 CA', active: '当前', inactive: '停用', checkCrl: '检查 CRL' },
  profiles: { title: '证书模板', intro: '申请可使用的证书模板。' },
  officers: {
    title: '操作员与角色', intro: '操作员账号及其在各 CA 的角色。', create: '新建操作员', created: '已创建操作员 {{id}}', tokenOnce: '个人访问令牌（只显示这一次）：',
    disable: '停用', disabledDone: '已停用 {{id}}', confirmDisable: '停用 {{id}}？其会话、令牌和证书登录立即失效。', allCas: '全部 CA（*）',
  },
  audit: {
    title: '审计日志', intro: '按时间、操作者、操作与对象筛选；操作与对象可用“前缀*”。查看本身也会记入审计日志。', verify: '完整性校验', verifying: '正在校验哈希链与签名检查点…',
    ok: '校验通过：{{n}} 条记录，哈希链完整，检查点 {{v}}/{{c}} 有效', failed: '校验失败：发现 {{n}} 处问题', actionHint: '例如 ca.* ', details: '详细内容',
  },
  renew: {
    title: '证书更新', intro: '在本浏览器内生成新的 P-256 密钥并提交更新申请。您的身份已在首次签发时核验，登录又证明了您持有当前私钥，因此更新期内的申请按“持有人自助更新”策略自动批准；原证书随即作废（被替代）。',
    notYet: '该证书自 {{at}} 起可以更新（到期前 30 天或有效期的最后三分之一）。', notValid: '只有有效的证书（未撤销、未冻结）可以更新。',
    sm2: '浏览器不支持 SM2：SM2 证书请用命令行更新（hpki keygen --alg sm2 生成新密钥后，hpki renew --cert <证书> --key <私钥> --new-key <新私钥>），或到注册机构办理。',
    generate: '生成新密钥', keyWarning: '新私钥只在本页面中，服务端不保存。请先保存私钥，再提交更新。', saveKey: '保存新私钥（PKCS#8 PEM）', keySaved: '我已保存新私钥',
    submit: '提交更新', done: '新证书已签发，序列号 {{serial}}。原证书已作废：请保存新证书，并用新证书和新私钥重新登录。', saveCert: '保存新证书（PEM）', saveChain: '保存证书链（PEM）',
    noWebCrypto: '本浏览器无法生成密钥（需要 HTTPS 或本机访问）',
  },
  unblockMe: {
    title: '申请 PIN 解锁', intro: 'USB Key 的用户 PIN 被锁定时：用 hpki token unblock-request 生成解锁请求并在此提交；审核员核验身份并授权后，在此下载应答，再用 hpki token unblock-apply 解锁并设置新 PIN。',
    request: '解锁请求（JSON）', hint: 'hpki token unblock-request --token <文件> --out req.json 生成的内容', file: '或选择请求文件', submit: '提交解锁请求', submitted: '已提交，等待审核员处理',
    badJson: '请求应为 hpki token unblock-request 生成的 JSON', mine: '我的解锁请求', tokenId: '介质编号', saveResponse: '下载应答',
    applyHint: '下载应答后执行：hpki token unblock-apply --token <文件> --response <应答文件> --new-pin-file <新 PIN 文件>',
    state: { pending: '待审核', answered: '已授权', rejected: '已拒绝' },
  },
  me: {
    title: '我的证书', intro: '您登录所用证书的主题下的全部证书。', current: '当前登录证书', reportLoss: '挂失', lossComment: '挂失说明', confirmLoss: '挂失后证书立即冻结，由审核员撤销或解冻。确认挂失证书 {{serial}}？',
    lossReported: '已挂失，证书已冻结', history: '状态记录',
  },
} as const;

/** The shape every language must have. */
export type Texts = { [K in keyof typeof zhCN]: { [L in keyof (typeof zhCN)[K]]: (typeof zhCN)[K][L] extends string ? string : { [M in keyof (typeof zhCN)[K][L]]: string } } };

export default zhCN as Texts;
