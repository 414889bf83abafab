/**
 * `hpki token …`: the software certificate token (GM/T 0016 semantics) from the command line —
 * initialise, list, generate the signing key and its CSR, import certificates and enveloped keys,
 * sign, decrypt, check and change PINs, and the PIN unblock round trip with the CA.
 * PINs come from files (first line) or environment variables, never from the command line, where
 * other users could read them in the process list. A wrong or locked PIN exits with 1.
 */
import type { Command } from 'commander';
import { KEY_ALGORITHMS, PkiError, toDer, toPem, type HashName, type KeyAlgorithm } from '@health-pki/pki';
import {
  DEFAULT_ADMIN_RETRIES,
  DEFAULT_APPLICATION,
  DEFAULT_USER_RETRIES,
  PinIncorrectError,
  PinLockedError,
  SoftToken,
  TokenSession,
  answerUnblockChallenge,
  type CipherName,
  type KdfParams,
  type SlotName,
} from '@health-pki/token';
import { CliError, EXIT_NEGATIVE, readCertificate, readInput, readPassphrase, usageError, withContext, writeJson, writeOutput } from '../io.js';

/** Environment variables that may carry PINs (for scripts that keep secrets in the environment). */
const PIN_ENV = { user: 'HPKI_TOKEN_PIN', admin: 'HPKI_TOKEN_ADMIN_PIN', new: 'HPKI_TOKEN_NEW_PIN' } as const;

interface TokenOptions {
  token?: string;
  app: string;
  pinFile?: string;
  adminPinFile?: string;
  newPinFile?: string;
  json?: boolean;
  [k: string]: unknown;
}

/** A PIN from its file, else its environment variable; a usage error naming both when neither is there. */
function readPin(file: string | undefined, which: keyof typeof PIN_ENV, flag: string): string {
  if (file !== undefined) return readPassphrase(file);
  const env = process.env[PIN_ENV[which]];
  if (env !== undefined && env !== '') return env;
  return usageError(`give the ${which === 'new' ? 'new PIN' : `${which} PIN`} with ${flag} FILE or the ${PIN_ENV[which]} environment variable`);
}

function tokenPath(opts: TokenOptions): string {
  const path = opts.token ?? process.env.HPKI_TOKEN;
  if (!path) usageError('give the token file with --token FILE (or HPKI_TOKEN)');
  return path;
}

function openToken(opts: TokenOptions): SoftToken {
  const path = tokenPath(opts);
  return onToken(() => SoftToken.open(path));
}

/** Logs in with the user PIN from --pin-file or the environment. */
function login(opts: TokenOptions): TokenSession {
  const t = openToken(opts);
  const pin = readPin(opts.pinFile, 'user', '--pin-file');
  return onToken(() => t.login(opts.app, pin));
}

/**
 * Runs a token operation: a wrong or locked PIN becomes exit code 1 with the token's own sentence
 * (it is an answer, "no"), any other library error a one-line usage error (exit 2).
 */
function onToken<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PinIncorrectError || e instanceof PinLockedError) throw new CliError(e.message, EXIT_NEGATIVE);
    if (e instanceof PkiError) throw new CliError(`token: ${e.message}`);
    throw e;
  }
}

function positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100) usageError(`${flag} must be a whole number from 1 to 100`);
  return Number(text);
}

function kdfOption(text: string | undefined): KdfParams | undefined {
  if (text === undefined) return undefined;
  if (text === 'scrypt') return { alg: 'scrypt', N: 1 << 15, r: 8, p: 1 };
  if (text === 'pbkdf2-sm3') return { alg: 'pbkdf2-sm3', iterations: 200_000 };
  const m = /^scrypt:(\d+)$/.exec(text);
  if (m) return { alg: 'scrypt', N: 2 ** Number(m[1]), r: 8, p: 1 };
  const p = /^pbkdf2-sm3:(\d+)$/.exec(text);
  if (p) return { alg: 'pbkdf2-sm3', iterations: Number(p[1]) };
  return usageError(`--kdf must be scrypt, scrypt:LOG2N, pbkdf2-sm3 or pbkdf2-sm3:ITERATIONS, not "${text}"`);
}

function slotOption(text: string | undefined): SlotName {
  const slot = text ?? 'signing';
  if (slot !== 'signing' && slot !== 'encryption') usageError(`--slot must be signing or encryption, not "${slot}"`);
  return slot;
}

/** The options every token command shares. */
function tokenCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--token <file>', 'the token file (default: $HPKI_TOKEN)')
    .option('--app <name>', 'the application on the token', DEFAULT_APPLICATION);
}

const PIN_HELP = 'file whose first line is the user PIN (or set HPKI_TOKEN_PIN)';
const ADMIN_PIN_HELP = 'file whose first line is the admin PIN (or set HPKI_TOKEN_ADMIN_PIN)';

/** Registers `hpki token` and its subcommands. */
export function register(program: Command): void {
  const token = program
    .command('token')
    .description('a software certificate token (GM/T 0016 style): containers, PINs, signing, decryption, PIN unblock')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ hpki token init --token zhang.tok --pin-file pin.txt --admin-pin-file admin.txt\n' +
        '  $ hpki token keygen --token zhang.tok --container staff --subject "C=CN,O=北京协和医院,CN=张三" --pin-file pin.txt --csr-out staff.csr\n' +
        '  $ hpki token list --token zhang.tok',
    );

  tokenCommand(token, 'init', 'create a token file with one application and its user and admin PINs')
    .option('--label <text>', 'token label')
    .option('--pin-file <file>', PIN_HELP)
    .option('--admin-pin-file <file>', ADMIN_PIN_HELP)
    .option('--user-retries <n>', `wrong user PINs before the PIN locks (default ${DEFAULT_USER_RETRIES})`)
    .option('--admin-retries <n>', `wrong admin PINs before it locks (default ${DEFAULT_ADMIN_RETRIES})`)
    .option('--kdf <kdf>', 'PIN key derivation: scrypt (default, N=2^15), scrypt:LOG2N, pbkdf2-sm3, pbkdf2-sm3:ITERATIONS')
    .option('--cipher <cipher>', 'sealing cipher: sm4-gcm (default) or aes-256-gcm')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  $ hpki token init --token zhang.tok --label 张三 --pin-file pin.txt --admin-pin-file admin.txt')
    .action((opts: TokenOptions & { label?: string; userRetries?: string; adminRetries?: string; kdf?: string; cipher?: string }) => {
        const cipher = opts.cipher ?? 'sm4-gcm';
        if (cipher !== 'sm4-gcm' && cipher !== 'aes-256-gcm') usageError(`--cipher must be sm4-gcm or aes-256-gcm, not "${cipher}"`);
        const t = onToken(() =>
          SoftToken.init(tokenPath(opts), {
            label: opts.label,
            application: opts.app,
            userPin: readPin(opts.pinFile, 'user', '--pin-file'),
            adminPin: readPin(opts.adminPinFile, 'admin', '--admin-pin-file'),
            userMaxRetries: positiveInt(opts.userRetries, '--user-retries', DEFAULT_USER_RETRIES),
            adminMaxRetries: positiveInt(opts.adminRetries, '--admin-retries', DEFAULT_ADMIN_RETRIES),
            kdf: kdfOption(opts.kdf),
            cipher: cipher as CipherName,
          }),
        );
        if (opts.json) writeJson({ tokenId: t.tokenId, application: opts.app, path: t.path });
        else process.stdout.write(`token ${t.tokenId} created at ${t.path} with application "${opts.app}"\n`);
    });

  tokenCommand(token, 'list', 'show applications, PIN counters, containers and certificates (no PIN needed)')
    .option('--json', 'print a stable JSON object')
    .addHelpText('after', '\nExample:\n  $ hpki token list --token zhang.tok --json')
    .action((opts: TokenOptions) => {
        const info = onToken(() => openToken(opts).info());
        if (opts.json) return writeJson(info);
        const lines = [`token ${info.tokenId}  "${info.label}"  created ${info.createdAt}`];
        for (const a of info.applications) {
          const pin = (p: { remaining: number; maxRetries: number; locked: boolean }) => (p.locked ? 'LOCKED' : `${p.remaining}/${p.maxRetries} tries`);
          lines.push(`  application "${a.name}"  user PIN ${pin(a.userPin)}  admin PIN ${pin(a.adminPin)}  (${a.kdf}, ${a.cipher})${a.unblockPending ? `  unblock pending until ${a.unblockPending.expiresAt}` : ''}`);
          for (const c of a.containers) {
            lines.push(`    container "${c.name}"`);
            for (const slot of ['signing', 'encryption'] as const) {
              const s = c[slot];
              const cert = s.certificate ? `  certificate ${s.certificate.subject} (serial ${s.certificate.serial}, until ${s.certificate.notAfter})` : '';
              lines.push(`      ${slot}: ${s.hasKey ? s.keyAlgorithm : 'no key'}${cert}`);
            }
          }
        }
        process.stdout.write(lines.join('\n') + '\n');
    });

  tokenCommand(token, 'keygen', 'generate the signing key pair inside a container (created if missing) and write its CSR')
    .requiredOption('--container <name>', 'the container')
    .option('--alg <alg>', `key algorithm: ${KEY_ALGORITHMS.join(', ')}`, 'sm2')
    .option('--subject <dn>', 'subject of the certification request "C=CN,O=…,CN=…" (without it, the public key is written)')
    .option('--csr-out <file>', 'write the CSR (or public key) here instead of stdout')
    .option('--replace', 'replace a signing key already in the container')
    .option('--pin-file <file>', PIN_HELP)
    .addHelpText('after', '\nExample:\n  $ hpki token keygen --token zhang.tok --container staff --subject "C=CN,O=北京协和医院,CN=张三" --pin-file pin.txt --csr-out staff.csr')
    .action((opts: TokenOptions & { container: string; alg: string; subject?: string; csrOut?: string; replace?: boolean }) => {
        if (!(KEY_ALGORITHMS as readonly string[]).includes(opts.alg)) usageError(`unknown key algorithm "${opts.alg}"; use one of ${KEY_ALGORITHMS.join(', ')}`);
        const session = login(opts);
        try {
          onToken(() => {
            if (!session.containers().some((c) => c.name === opts.container)) session.createContainer(opts.container);
            const pub = session.generateKeyPair(opts.container, opts.alg as KeyAlgorithm, { replace: opts.replace });
            if (opts.subject === undefined) return writeOutput(toPem('PUBLIC KEY', pub.spki), opts.csrOut);
            writeOutput(session.certificationRequest(opts.container, opts.subject).toPem(), opts.csrOut);
          });
        } finally {
          session.logout();
        }
    });

  tokenCommand(token, 'import', 'import a certificate, or an enveloped encryption key (SM2EnvelopedKey or CMS EnvelopedData) from the KMC')
    .requiredOption('--container <name>', 'the container')
    .option('--cert <file>', 'a certificate to import')
    .option('--slot <slot>', 'slot of --cert: signing (default) or encryption')
    .option('--enveloped-key <file>', 'an enveloped encryption key pair (DER or PEM), opened with the container\'s signing key')
    .option('--enc-cert <file>', 'the encryption certificate that goes with --enveloped-key')
    .option('--pin-file <file>', PIN_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  $ hpki token import --token zhang.tok --container staff --cert sign.crt --pin-file pin.txt\n' +
        '  $ hpki token import --token zhang.tok --container staff --enveloped-key enc-key.env --enc-cert enc.crt --pin-file pin.txt',
    )
    .action((opts: TokenOptions & { container: string; cert?: string; slot?: string; envelopedKey?: string; encCert?: string }) => {
        if ((opts.cert === undefined) === (opts.envelopedKey === undefined)) usageError('give either --cert or --enveloped-key');
        const session = login(opts);
        try {
          if (opts.cert !== undefined) {
            const cert = readCertificate(opts.cert);
            onToken(() => session.importCertificate(opts.container, slotOption(opts.slot), cert));
          } else {
            const bytes = readInput(opts.envelopedKey!, 'enveloped key');
            const der = withContext(`enveloped key "${opts.envelopedKey}"`, () => toDer(bytes, ['SM2 ENVELOPED KEY', 'CMS', 'PKCS7'], 'enveloped key'));
            const certificate = opts.encCert !== undefined ? readCertificate(opts.encCert) : undefined;
            withContext(`enveloped key "${opts.envelopedKey}"`, () => session.importEnvelopedKey(opts.container, der, { certificate }));
          }
        } finally {
          session.logout();
        }
    });

  tokenCommand(token, 'sign', 'sign a file with a container\'s signing key (SM2 with SM3 and a user ID, ECDSA or RSA)')
    .requiredOption('--container <name>', 'the container')
    .requiredOption('--in <file>', 'the data to sign ("-" for stdin)')
    .option('--out <file>', 'write the DER signature here instead of stdout')
    .option('--user-id <id>', 'SM2 user ID (default 1234567812345678)')
    .option('--hash <hash>', 'hash for RSA and ECDSA: sha256, sha384, sha512')
    .option('--json', 'print {algorithm, signature (base64)} instead of the raw signature')
    .option('--pin-file <file>', PIN_HELP)
    .addHelpText('after', '\nExample:\n  $ hpki token sign --token zhang.tok --container staff --in record.xml --out record.sig --pin-file pin.txt')
    .action((opts: TokenOptions & { container: string; in: string; out?: string; userId?: string; hash?: string }) => {
        const data = readInput(opts.in, 'input');
        const session = login(opts);
        try {
          const sig = onToken(() =>
            session.sign(opts.container, data, { ...(opts.userId !== undefined ? { sm2UserId: Buffer.from(opts.userId, 'utf8') } : {}), ...(opts.hash ? { hash: opts.hash as HashName } : {}) }),
          );
          if (opts.json) writeJson({ algorithm: sig.algorithm, signature: sig.signature.toString('base64') }, opts.out);
          else writeOutput(sig.signature, opts.out);
        } finally {
          session.logout();
        }
    });

  tokenCommand(token, 'decrypt', 'decrypt with a container\'s encryption key: SM2 ciphertext (as openssl pkeyutl makes), RSA-OAEP, or CMS EnvelopedData with --cms')
    .requiredOption('--container <name>', 'the container')
    .requiredOption('--in <file>', 'the ciphertext ("-" for stdin)')
    .option('--out <file>', 'write the plaintext here (mode 0600) instead of stdout')
    .option('--cms', 'the input is CMS EnvelopedData (DER) addressed to the encryption certificate')
    .option('--pin-file <file>', PIN_HELP)
    .addHelpText('after', '\nExample:\n  $ hpki token decrypt --token zhang.tok --container staff --in report.sm2 --out report.pdf --pin-file pin.txt')
    .action((opts: TokenOptions & { container: string; in: string; out?: string; cms?: boolean }) => {
        const data = readInput(opts.in, 'input');
        const session = login(opts);
        try {
          const plain = onToken(() => (opts.cms ? session.openEnvelope(opts.container, data) : session.decrypt(opts.container, data)));
          writeOutput(plain, opts.out, { secret: true });
        } finally {
          session.logout();
        }
    });

  tokenCommand(token, 'export-cert', 'write a container\'s certificate (no PIN needed)')
    .requiredOption('--container <name>', 'the container')
    .option('--slot <slot>', 'signing (default) or encryption')
    .option('--out <file>', 'write here instead of stdout')
    .option('--der', 'write DER instead of PEM')
    .addHelpText('after', '\nExample:\n  $ hpki token export-cert --token zhang.tok --container staff --slot encryption --out enc.crt')
    .action((opts: TokenOptions & { container: string; slot?: string; out?: string; der?: boolean }) => {
        const slot = slotOption(opts.slot);
        const cert = onToken(() => openToken(opts).exportCertificate(opts.app, opts.container, slot));
        if (!cert) throw new CliError(`container "${opts.container}" has no ${slot} certificate`);
        writeOutput(opts.der ? cert.der : cert.toPem(), opts.out);
    });

  tokenCommand(token, 'verify-pin', 'check a PIN; a wrong PIN spends a try (exit 1), and the PIN locks after the set number')
    .option('--admin', 'check the admin PIN instead of the user PIN')
    .option('--pin-file <file>', PIN_HELP)
    .option('--admin-pin-file <file>', ADMIN_PIN_HELP)
    .option('--json', 'print {ok, remaining, locked}')
    .addHelpText('after', '\nExample:\n  $ hpki token verify-pin --token zhang.tok --pin-file pin.txt')
    .action((opts: TokenOptions & { admin?: boolean }) => {
      const role = opts.admin ? 'admin' : 'user';
      const pin = opts.admin ? readPin(opts.adminPinFile, 'admin', '--admin-pin-file') : readPin(opts.pinFile, 'user', '--pin-file');
      const t = openToken(opts);
      try {
        t.verifyPin(opts.app, role, pin);
      } catch (e) {
        if (opts.json && (e instanceof PinIncorrectError || e instanceof PinLockedError)) {
          const status = onToken(() => t.pinStatus(opts.app, role));
          writeJson({ ok: false, remaining: status.remaining, locked: status.locked });
          process.exitCode = EXIT_NEGATIVE;
          return;
        }
        onToken(() => {
          throw e;
        });
      }
      if (opts.json) writeJson({ ok: true, ...onToken(() => t.pinStatus(opts.app, role)) });
      else process.stdout.write(`${role} PIN correct\n`);
    });

  tokenCommand(token, 'change-pin', 'change the user PIN (or the admin PIN with --admin), knowing the old one')
    .option('--admin', 'change the admin PIN')
    .option('--pin-file <file>', 'the current user PIN (or HPKI_TOKEN_PIN)')
    .option('--admin-pin-file <file>', 'the current admin PIN (or HPKI_TOKEN_ADMIN_PIN)')
    .option('--new-pin-file <file>', 'the new PIN (or HPKI_TOKEN_NEW_PIN)')
    .addHelpText('after', '\nExample:\n  $ hpki token change-pin --token zhang.tok --pin-file old.txt --new-pin-file new.txt')
    .action((opts: TokenOptions & { admin?: boolean }) => {
        const role = opts.admin ? 'admin' : 'user';
        const old = opts.admin ? readPin(opts.adminPinFile, 'admin', '--admin-pin-file') : readPin(opts.pinFile, 'user', '--pin-file');
        const fresh = readPin(opts.newPinFile, 'new', '--new-pin-file');
        onToken(() => openToken(opts).changePin(opts.app, role, old, fresh));
        process.stdout.write(`${role} PIN changed\n`);
    });

  tokenCommand(token, 'unblock-request', 'start a PIN unblock: write the request (challenge) to send to the CA')
    .option('--out <file>', 'write the request JSON here instead of stdout')
    .addHelpText('after', '\nExample:\n  $ hpki token unblock-request --token zhang.tok --out unblock-request.json')
    .action((opts: TokenOptions & { out?: string }) => {
        const req = onToken(() => openToken(opts).requestUnblock(opts.app));
        writeJson(req, opts.out);
    });

  token
    .command('unblock-answer')
    .description('the CA\'s side, after an RA officer authorised the unblock: answer a request with the admin PIN recorded for the token')
    .requiredOption('--request <file>', 'the token\'s unblock request (JSON)')
    .requiredOption('--token-id <id>', 'the token the CA means to answer for (its admin PIN is in --admin-pin-file)')
    .option('--admin-pin-file <file>', ADMIN_PIN_HELP)
    .option('--out <file>', 'write the response JSON here instead of stdout')
    .addHelpText('after', '\nExample:\n  $ hpki token unblock-answer --request unblock-request.json --token-id 3f… --admin-pin-file admin.txt --out unblock-response.json')
    .action((opts: { request: string; tokenId: string; adminPinFile?: string; out?: string }) => {
      const request = readInput(opts.request, 'unblock request');
      const adminPin = readPin(opts.adminPinFile, 'admin', '--admin-pin-file');
      const response = withContext('unblock request', () => answerUnblockChallenge(adminPin, opts.tokenId, request));
      writeJson(response, opts.out);
    });

  tokenCommand(token, 'unblock-apply', 'finish a PIN unblock with the CA\'s response: set a new user PIN and reset its counter')
    .requiredOption('--response <file>', 'the CA\'s unblock response (JSON)')
    .option('--new-pin-file <file>', 'the new user PIN (or HPKI_TOKEN_NEW_PIN)')
    .addHelpText('after', '\nExample:\n  $ hpki token unblock-apply --token zhang.tok --response unblock-response.json --new-pin-file new.txt')
    .action((opts: TokenOptions & { response: string }) => {
        const response = readInput(opts.response, 'unblock response');
        const fresh = readPin(opts.newPinFile, 'new', '--new-pin-file');
        onToken(() => openToken(opts).applyUnblock(opts.app, response, fresh));
        process.stdout.write('user PIN unblocked and set\n');
    });
}
