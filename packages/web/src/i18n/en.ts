/** The interface's English texts. Typed against the Chinese ones, so a missing key fails the build. */
import type { Texts } from './zh-CN.js';

const en: Texts = {
  app: { title: 'Health-sector certification service', skip: 'Skip to main content', language: 'Language', loading: 'Loading…', notFound: 'No such page', home: 'Home' },
  nav: {
    sections: { public: 'Public services', holder: 'My certificates', ra: 'Registration', admin: 'Administration', audit: 'Audit' },
    search: 'Certificate search', crls: 'CRL download', login: 'Sign in', logout: 'Sign out',
    me: 'My certificates', queue: 'Application queue', newApplication: 'Enter application', certificates: 'Certificate status', lossReports: 'Loss reports',
    unblocks: 'PIN unblock requests', recoveries: 'Key recovery requests', cas: 'CAs and keys', profiles: 'Profiles', officers: 'Officers and roles', audit: 'Audit log',
  },
  roles: { admin: 'administrator', officer: 'RA officer', auditor: 'auditor', holder: 'certificate holder', public: 'public' },
  user: { signedInAs: 'Signed in as {{id}} ({{role}})' },
  common: {
    search: 'Search', reset: 'Reset', submit: 'Submit', cancel: 'Cancel', save: 'Save', confirm: 'Confirm', close: 'Close', refresh: 'Refresh',
    next: 'Next page', previous: 'Previous page', page: 'Page {{n}}', none: 'No records', all: 'All', yes: 'Yes', no: 'No', actions: 'Actions',
    exportCsv: 'Export CSV', exporting: 'Exporting: {{n}} rows read', working: 'Working…', done: 'Done', details: 'Details', required: '(required)',
    download: 'Download', optional: '(optional)', ca: 'Certification authority', sortAsc: 'ascending', sortDesc: 'descending', of: '{{a}} of {{b}}',
  },
  fields: {
    serial: 'Serial number', subject: 'Subject', issuer: 'Issuing CA', profile: 'Profile', status: 'Status', notBefore: 'Valid from', notAfter: 'Valid until',
    issuedAt: 'Issued', revokedAt: 'Revoked', reason: 'Reason', identity: 'Identity number', org: 'Organisation', comment: 'Comment',
    name: 'Name', organization: 'Organisation', department: 'Department', title: 'Title', phone: 'Phone', email: 'E-mail', residentId: 'Resident ID number',
    csr: 'Certificate request (PKCS#10, PEM)', csrFile: 'or choose a request file', materials: 'Materials (scans, forms)', kind: 'Kind', state: 'State',
    enteredBy: 'Entered by', enteredAt: 'Entered', decidedBy: 'Decided by', decidedAt: 'Decided', decisionReason: 'Decision note', id: 'ID',
    token: 'Access token', certificate: 'Certificate (PEM)', privateKey: 'Private key (PKCS#8 PEM)', from: 'From', to: 'To', actor: 'Actor',
    action: 'Action', target: 'Target', at: 'Time', seq: 'Seq', algorithm: 'Algorithm', keyProtection: 'Key protection', role: 'Role', cas: 'CAs',
    holder: 'Holder', requestedBy: 'Requested by', requestedAt: 'Requested', officerId: 'Account', displayName: 'Name', defaultDays: 'Default validity (days)',
    previousSerial: 'Previous certificate serial', keyAlgorithms: 'Key algorithms', validity: 'Validity', crl: 'CRL', ocsp: 'OCSP URL', disabled: 'Disabled',
  },
  status: { valid: 'Valid', hold: 'On hold (loss reported)', revoked: 'Revoked', submitted: 'Awaiting review', issued: 'Issued', rejected: 'Rejected', pending: 'Pending', authorised: 'Authorised', approved: 'Approved', delivered: 'Delivered' },
  kind: { new: 'New', renewal: 'Renewal', rekey: 'Re-key', reissue: 'Reissue' },
  reasons: {
    unspecified: 'Unspecified', keyCompromise: 'Key compromise (medium lost)', cACompromise: 'CA compromise', affiliationChanged: 'Affiliation changed', superseded: 'Superseded (medium damaged)',
    cessationOfOperation: 'Cessation of operation', certificateHold: 'Hold', removeFromCRL: 'Remove from CRL', privilegeWithdrawn: 'Privilege withdrawn', aACompromise: 'AA compromise',
  },
  validation: {
    required: 'Please fill in {{field}}', email: 'The e-mail address is not valid', residentId: 'A resident ID number has 18 characters and a correct check digit', csr: 'The request must be PEM (starting with -----BEGIN CERTIFICATE REQUEST-----)',
    serial: 'A serial number has hexadecimal digits only', tooLarge: 'File "{{name}}" is larger than {{max}} MB', date: 'Enter a valid date and time', id: 'Use letters, digits, dots, dashes and underscores only',
    pem: 'Must be PEM', formHasErrors: 'The form has {{n}} error(s); see the marked fields',
  },
  errors: {
    generic: 'The request failed ({{status}})', network: 'Cannot reach the service; check the network and retry', server: 'Internal error in the service; retry later or contact the administrator',
    unauthenticated: 'Your sign-in has expired or the credential is not valid; please sign in again', forbidden: 'You are not allowed to do this', notFound: 'Not found', conflict: 'The object changed state; this cannot be done now',
    badRequest: 'The request is not valid', rule: 'A profile rule is not met', tooLarge: 'The upload is too large', rateLimited: 'Too many attempts; try again later', detail: 'The service says: {{message}}',
    sm2Browser: 'Browsers cannot sign with SM2: for an SM2 certificate sign in with a token or with "hpki login"', keyMismatch: 'Cannot sign with this key: it must be PKCS#8 PEM and match the certificate',
  },
  login: {
    title: 'Sign in', intro: 'Use the same credentials as the API: an access token, or a certificate and its private key (the key is used in this browser only, never uploaded).',
    withToken: 'With an access token', withCertificate: 'With a certificate', signIn: 'Sign in', signingIn: 'Signing in…', welcome: 'Welcome, {{id}}',
  },
  search: { title: 'Search and download certificates', intro: 'Search the certificates issued here by serial, subject, identity number, organisation or status.', results: 'Results', subjectHint: 'e.g. CN=Zhang San or Cardiology', pem: 'PEM', der: 'DER', chainPem: 'Chain (PEM)', chainP7c: 'Chain (PKCS#7)' },
  crls: { title: 'Download revocation lists', intro: 'The current full and delta CRLs of each CA; for online checks use OCSP.', full: 'Full CRL', delta: 'Delta CRL', caCert: 'CA certificate', published: 'Published {{at}}', notPublished: 'Not published yet' },
  queue: { title: 'Application queue', intro: 'Applications awaiting review, oldest first.', open: 'Review' },
  application: {
    title: 'Application {{id}}', approve: 'Approve and issue', reject: 'Reject', rejectReason: 'Reason for rejection', approveComment: 'Review note', issuing: 'Issuing the certificate…',
    issued: 'Certificate issued, serial {{serial}}', rejected: 'Application rejected', materials: 'Materials', noMaterials: 'No materials', applicant: 'Applicant', events: 'History',
    makerChecker: 'The officer who entered an application cannot approve it: a second officer must.',
  },
  newApp: { title: 'Enter a certificate application', intro: "Enter the applicant's identity data, upload the materials and the certificate request; a second officer reviews it.", submitted: 'Application submitted, ID {{id}}', uploading: 'Submitting the application and materials…' },
  certs: {
    title: 'Certificate status', intro: 'Find a certificate by serial number, then revoke, hold or release it.', lookup: 'Find', revoke: 'Revoke', hold: 'Hold', release: 'Release', revokeReason: 'Revocation reason',
    revoked: 'Certificate revoked', held: 'Certificate on hold', released: 'Certificate released', confirmRevoke: 'Revocation cannot be undone. Revoke certificate {{serial}}?',
  },
  loss: { title: 'Loss reports', intro: 'A reported loss puts the certificate on hold: revoke it (key compromise) if the medium is lost, release it if found.', revokeLost: 'Lost: revoke', found: 'Found: release' },
  unblocks: { title: 'PIN unblock requests', intro: "Requests to unblock a medium's (USB key's) PIN; once authorised the holder unblocks with the answer.", authorise: 'Authorise', reject: 'Reject', rejectReason: 'Reason for rejection', authorised: 'Authorised', rejectedDone: 'Rejected' },
  recoveries: { title: 'Key recovery requests', intro: 'Recovering an escrowed encryption key needs approvals by several distinct officers; whoever entered a request cannot approve it.', approve: 'Approve', reject: 'Reject', approvals: '{{n}} of {{m}} approvals', approved: 'Approved', rejectedDone: 'Rejected' },
  cas: { title: 'CAs and keys', intro: "This deployment's certification authorities, their CA certificates and key protection, CRL and OCSP status.", root: 'Root CA', issuing: 'Issuing CA', active: 'current', inactive: 'inactive', checkCrl: 'Check CRL' },
  profiles: { title: 'Certificate profiles', intro: 'The profiles an application can name.' },
  officers: {
    title: 'Officers and roles', intro: 'Officer accounts and their roles per CA.', create: 'Create officer', created: 'Officer {{id}} created', tokenOnce: 'Personal access token (shown this once only):',
    disable: 'Disable', disabledDone: '{{id}} disabled', confirmDisable: 'Disable {{id}}? Their sessions, tokens and certificate logins stop at once.', allCas: 'All CAs (*)',
  },
  audit: {
    title: 'Audit log', intro: 'Filter by time, actor, action and target; action and target take "prefix*". Reading is itself audited.', verify: 'Integrity check', verifying: 'Checking the hash chain and signed checkpoints…',
    ok: 'Intact: {{n}} entries, hash chain unbroken, {{v}}/{{c}} checkpoints valid', failed: 'Check failed: {{n}} fault(s) found', actionHint: 'e.g. ca.*', details: 'Details',
  },
  renew: {
    title: 'Renew certificate', intro: 'Makes a new P-256 key in this browser and sends a renewal. Your identity was verified at first issuance and this login proves you hold the current key, so within the renewal window the request is approved by the holder-renewal policy; the old certificate is then superseded (revoked).',
    notYet: 'This certificate can be renewed from {{at}} (its last 30 days or the last third of its validity).', notValid: 'Only a valid certificate (not revoked, not on hold) can be renewed.',
    sm2: 'Browsers cannot do SM2: renew an SM2 certificate with the CLI (a new key from hpki keygen --alg sm2, then hpki renew --cert <certificate> --key <key> --new-key <new key>), or at the RA desk.',
    generate: 'Generate a new key', keyWarning: 'The new private key exists only in this page; the service does not keep it. Save it before you send the renewal.', saveKey: 'Save the new private key (PKCS#8 PEM)', keySaved: 'I have saved the new private key',
    submit: 'Send renewal', done: 'New certificate issued, serial {{serial}}. The old certificate is superseded: save the new certificate and log in again with it and the new key.', saveCert: 'Save the new certificate (PEM)', saveChain: 'Save the chain (PEM)',
    noWebCrypto: 'This browser cannot generate keys here (it needs HTTPS or localhost)',
  },
  unblockMe: {
    title: 'Ask for a PIN unblock', intro: 'When your token\'s user PIN is locked: make an unblock request with hpki token unblock-request and send it here; once an officer has checked your identity and authorised it, download the answer here and unblock with hpki token unblock-apply, choosing a new PIN.',
    request: 'Unblock request (JSON)', hint: 'what hpki token unblock-request --token <file> --out req.json wrote', file: 'or choose the request file', submit: 'Send unblock request', submitted: 'Sent; waiting for an officer',
    badJson: 'The request must be the JSON written by hpki token unblock-request', mine: 'My unblock requests', tokenId: 'Token', saveResponse: 'Download answer',
    applyHint: 'Then run: hpki token unblock-apply --token <file> --response <answer file> --new-pin-file <new PIN file>',
    state: { pending: 'Pending', answered: 'Authorised', rejected: 'Rejected' },
  },
  me: {
    title: 'My certificates', intro: 'Every certificate with the subject of the certificate you signed in with.', current: 'signed in with this one', reportLoss: 'Report loss', lossComment: 'What happened', confirmLoss: 'The certificate goes on hold at once; an officer then revokes or releases it. Report the loss of {{serial}}?',
    lossReported: 'Loss reported; the certificate is on hold', history: 'Status history',
  },
};

export default en;
