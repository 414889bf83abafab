// The EMR page: talks to the EMR (same origin) and to the holder's local signing agent (127.0.0.1).
// Keys and PINs go only to the agent; the EMR receives certificates and signatures.
const $ = (id) => document.getElementById(id);
const ROLE_NAMES = { doctor: '医生', nurse: '护士', auditor: '审计员' };
let me = null;

const agentUrl = () => $('agent-url').value.replace(/\/+$/, '');

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || ('HTTP ' + res.status));
  return json;
}

async function agent(method, path, body) {
  let res;
  try {
    res = await fetch(agentUrl() + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error('无法连接本机签名助手（' + agentUrl() + '），请确认已启动');
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error('签名助手：' + (json.error || ('HTTP ' + res.status)));
  return json;
}

function show(el, text, kind) {
  el.textContent = text;
  el.className = 'msg' + (kind ? ' ' + kind : '');
}

function selectedCert() {
  const opt = $('cert').selectedOptions[0];
  return opt ? { id: opt.value, pem: opt.dataset.pem, label: opt.textContent } : null;
}

async function loadCertificates() {
  show($('login-msg'), '正在读取证书…');
  try {
    const { certificates } = await agent('GET', '/v1/certificates');
    $('cert').replaceChildren(...certificates.map((c) => {
      const o = document.createElement('option');
      o.value = c.id;
      o.dataset.pem = c.certificate;
      o.textContent = cn(c.subject) + '（' + c.algorithm.toUpperCase() + '，' + cn(c.issuer) + '）';
      return o;
    }));
    show($('login-msg'), '找到 ' + certificates.length + ' 张证书', 'ok');
  } catch (e) {
    show($('login-msg'), e.message, 'error');
  }
}

function cn(dn) {
  const m = /CN=([^,]+)/.exec(dn);
  return m ? m[1] : dn;
}

async function sign(certId, data, hash) {
  const pin = $('sign-pin').value || $('pin').value;
  if (!pin) throw new Error('请输入签名 PIN');
  const r = await agent('POST', '/v1/sign', { id: certId, pin, data, hash });
  return r.signature;
}

async function login() {
  const c = selectedCert();
  if (!c) return show($('login-msg'), '请先读取并选择证书', 'error');
  if (!$('pin').value) return show($('login-msg'), '请输入 PIN', 'error');
  show($('login-msg'), '正在登录…');
  try {
    const ch = await api('POST', '/api/session/challenge', {});
    const r = await agent('POST', '/v1/sign', { id: c.id, pin: $('pin').value, data: ch.toBeSigned });
    me = await api('POST', '/api/session/login', { certificate: c.pem, signature: r.signature });
    sessionStorage.setItem('emr-cert', JSON.stringify(c));
    $('pin').value = '';
    await enter();
  } catch (e) {
    show($('login-msg'), e.message, 'error');
  }
}

async function enter() {
  const c = JSON.parse(sessionStorage.getItem('emr-cert') || 'null');
  $('login-card').hidden = true;
  $('workspace').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = me.name + '（' + me.roles.map((r) => ROLE_NAMES[r] || r).join('、') + '） · ' + (me.ca || '');
  $('sign-cert').textContent = c ? c.label : '—';
  const signer = me.roles.includes('doctor') || me.roles.includes('nurse');
  $('sign-pin-card').hidden = !signer;
  $('new-record').hidden = !me.roles.includes('doctor');
  $('records-card').hidden = !signer;
  $('audit-card').hidden = !me.roles.includes('auditor');
  if (signer) await loadRecords();
  if (me.roles.includes('auditor')) await loadAudit();
}

function status(r) {
  const a = r.signatures.some((s) => s.role === 'author');
  const c = r.signatures.some((s) => s.role === 'countersign');
  return c ? '已签名 · 已会签' : a ? '已签名 · 待会签' : '待签名';
}

async function loadRecords() {
  const { records } = await api('GET', '/api/records');
  $('records').replaceChildren(...records.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.id = r.id;
    for (const t of [r.patient, r.content.length > 40 ? r.content.slice(0, 40) + '…' : r.content, r.author, new Date(r.createdAt).toLocaleString('zh-CN'), status(r)]) {
      const td = document.createElement('td');
      td.textContent = t;
      tr.append(td);
    }
    const td = document.createElement('td');
    const signed = r.signatures.some((s) => s.role === 'author');
    const counter = r.signatures.some((s) => s.role === 'countersign');
    if (me.roles.includes('doctor') && !signed && r.author === me.account) td.append(button('签名', () => signRecord(r.id, 'sign')));
    if (me.roles.includes('nurse') && signed && !counter) td.append(button('会签', () => signRecord(r.id, 'countersign')));
    tr.append(td);
    return tr;
  }));
}

function button(text, fn) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.className = 'primary';
  b.addEventListener('click', fn);
  return b;
}

async function signRecord(id, kind) {
  const c = JSON.parse(sessionStorage.getItem('emr-cert') || 'null');
  show($('msg'), kind === 'sign' ? '正在签名…' : '正在会签…');
  try {
    if (!c) throw new Error('请重新登录');
    const p = await api('POST', '/api/records/' + id + '/' + kind + '/prepare', { certificate: c.pem });
    const signature = await sign(c.id, p.toBeSigned, p.hash);
    const done = await api('POST', '/api/records/' + id + '/' + kind + '/' + p.pendingId, { signature });
    const s = done.signature;
    show($('msg'), (kind === 'sign' ? '签名成功' : '会签成功') + '，时间戳 ' + new Date(s.signedAt).toLocaleString('zh-CN') + (s.valid ? '，验证通过' : '，验证未通过：' + s.reason), s.valid ? 'ok' : 'error');
    await loadRecords();
  } catch (e) {
    show($('msg'), e.message, 'error');
  }
}

async function createAndSign() {
  try {
    const r = await api('POST', '/api/records', { patient: $('patient').value, content: $('content').value });
    $('patient').value = '';
    $('content').value = '';
    await signRecord(r.id, 'sign');
  } catch (e) {
    show($('msg'), e.message, 'error');
  }
}

const REVOCATION = { good: '有效', revoked: '已吊销', unknown: '未知' };
const REASONS = { unspecified: '未指明原因', keyCompromise: '密钥泄露', cACompromise: 'CA 泄露', affiliationChanged: '隶属关系变更', superseded: '已被取代', cessationOfOperation: '停止使用', certificateHold: '证书冻结', privilegeWithdrawn: '权限撤销' };

async function loadAudit() {
  show($('msg'), '');
  const a = await api('GET', '/api/audit');
  $('audit-meta').textContent = '验证时间 ' + new Date(a.checkedAt).toLocaleString('zh-CN') + ' · 信任列表版本 ' + a.trustListVersion + ' · 每次查看都重新验证签名、时间戳与证书状态（实时 OCSP/CRL 与签名时存档的证据）';
  const rows = [];
  for (const r of a.records) {
    for (const s of r.signatures) {
      const tr = document.createElement('tr');
      tr.dataset.record = r.id;
      tr.dataset.role = s.role;
      const cells = [
        r.patient + '：' + (r.content.length > 24 ? r.content.slice(0, 24) + '…' : r.content),
        s.role === 'author' ? '医生签名' : '护士会签',
        s.signer ? s.signer.name : s.account,
        s.signer ? s.signer.ca || cn(s.signer.issuer) : '',
        s.signer ? s.signer.algorithm : '',
        s.signedAt ? new Date(s.signedAt).toLocaleString('zh-CN') : '—',
      ];
      for (const t of cells) {
        const td = document.createElement('td');
        td.textContent = t;
        tr.append(td);
      }
      const v = document.createElement('td');
      v.className = s.valid ? 'valid verdict' : 'invalid verdict';
      v.textContent = s.valid ? '✔ 签名有效' : '✘ 签名无效：' + s.reason;
      tr.append(v);
      const st = document.createElement('td');
      st.className = 'cert-status' + (s.revocation && s.revocation.status === 'revoked' ? ' revoked' : '');
      if (s.revocation) {
        let text = REVOCATION[s.revocation.status] || s.revocation.status;
        if (s.revocation.revokedAt) text += '（' + new Date(s.revocation.revokedAt).toLocaleString('zh-CN') + (s.signedAt && s.revocation.revokedAt > s.signedAt ? '，晚于签名时间' : '') + (s.revocation.reason ? '，' + (REASONS[s.revocation.reason] || s.revocation.reason) : '') + '）';
        st.textContent = text;
        const src = document.createElement('div');
        src.className = 'small';
        src.textContent = '来源：' + (s.revocation.source || '—').toUpperCase() + (s.revocation.fromArchive ? '（签名时存档）' : '（实时查询）');
        st.append(src);
      }
      tr.append(st);
      rows.push(tr);
    }
  }
  $('audit').replaceChildren(...rows);
}

async function logout() {
  await api('POST', '/api/session/logout', {}).catch(() => undefined);
  sessionStorage.removeItem('emr-cert');
  me = null;
  $('workspace').hidden = true;
  $('who').hidden = true;
  $('login-card').hidden = false;
  show($('login-msg'), '已退出');
  show($('msg'), '');
}

$('agent-url').value = localStorage.getItem('emr-agent-url') || document.querySelector('meta[name="emr-agent-url"]').content;
$('agent-url').addEventListener('change', () => localStorage.setItem('emr-agent-url', agentUrl()));
$('load-certs').addEventListener('click', loadCertificates);
$('login').addEventListener('click', login);
$('logout').addEventListener('click', logout);
$('create-sign').addEventListener('click', createAndSign);
$('audit-refresh').addEventListener('click', () => loadAudit().catch((e) => show($('msg'), e.message, 'error')));
api('GET', '/api/session').then((m) => { me = m; return enter(); }).catch(() => undefined);
