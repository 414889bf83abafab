/**
 * `hpki renew`: a holder renews their own certificate (POST /api/v1/me/renewals). The CLI logs in
 * with the certificate (signed challenge: proof of possession of the current key), sends a CSR
 * for the new key with the certificate's own subject (re-key: the old certificate is superseded)
 * or nothing (same key: renewal), writes the new certificate and ends the session. This is how SM2
 * holders renew: browsers have no SM2.
 */
import type { Command } from 'commander';
import { Certificate, buildCsr, signData } from '@health-pki/pki';
import { readInput, readPrivateKey, usageError, withContext, writeJson, writeOutput } from '../io.js';
import { addOnlineOptions, callApi, type OnlineOptions } from '../online.js';

interface RenewOptions extends OnlineOptions {
  cert: string;
  key: string;
  passFile?: string;
  newKey?: string;
  newPassFile?: string;
  out?: string;
  chainOut?: string;
}

/** Registers `hpki renew`. */
export function register(program: Command): void {
  const cmd = program
    .command('renew')
    .description("renew your own certificate as its holder: log in with it, send the new key's CSR (or keep the key), approved by the CA's holder-renewal policy within its renewal window")
    .requiredOption('--cert <file>', 'the certificate to renew (PEM or DER)')
    .requiredOption('--key <file>', 'its private key (signs the login challenge)')
    .option('--pass-file <file>', 'passphrase of an encrypted --key')
    .option('--new-key <file>', 'the new private key (e.g. from `hpki keygen`): a re-key, the old certificate is revoked as superseded; without it the key is kept')
    .option('--new-pass-file <file>', 'passphrase of an encrypted --new-key')
    .option('--out <file>', 'write the new certificate (PEM) here instead of stdout')
    .option('--chain-out <file>', 'also write the issuing CA and root certificates (PEM)');
  addOnlineOptions(cmd, { token: false })
    .addHelpText('after', '\nExample:\n  $ hpki keygen --alg sm2 --out new.key\n  $ hpki renew --server https://ca.example --cert me.pem --key me.key --new-key new.key --out me-new.pem')
    .action(async (opts: RenewOptions) => {
      const cert = withContext(`certificate "${opts.cert}"`, () => Certificate.parse(readInput(opts.cert, 'certificate')));
      const key = readPrivateKey(opts.key, opts.passFile);
      const newKey = opts.newKey !== undefined ? readPrivateKey(opts.newKey, opts.newPassFile) : undefined;
      if (newKey && newKey.publicKey.spki.equals(key.publicKey.spki)) usageError('--new-key is the same key as --key; leave --new-key out to renew with the same key');
      const pem = cert.toPem();
      const challenge = await callApi<{ challenge: string; toBeSigned: string }>(opts, 'POST', '/api/v1/auth/challenge', { certificate: pem });
      const { signature } = signData(key, Buffer.from(challenge.toBeSigned, 'base64'));
      const session = await callApi<{ token: string }>(opts, 'POST', '/api/v1/auth/login', { challenge: challenge.challenge, certificate: pem, signature: signature.toString('base64') });
      const asHolder = { ...opts, bearer: session.token };
      const body = newKey ? { csr: buildCsr(cert.subject, newKey).toPem() } : {};
      let renewed: any;
      try {
        renewed = await callApi(asHolder, 'POST', '/api/v1/me/renewals', body);
      } finally {
        // A re-key revoked the login certificate and its session with it; otherwise end the session here.
        if (!renewed || renewed.application.kind === 'renewal') await callApi(asHolder, 'POST', '/api/v1/auth/logout', {}).catch(() => undefined);
      }
      writeOutput(renewed.certificate.pem, opts.out);
      if (opts.chainOut) writeOutput(renewed.chainPem, opts.chainOut);
      if (opts.json) writeJson({ application: renewed.application, certificate: renewed.certificate });
      else if (opts.out) process.stderr.write(`${renewed.application.kind === 'rekey' ? 're-keyed' : 'renewed'} ${cert.serialHex} → ${renewed.certificate.serial} (${renewed.application.decidedBy}) → ${opts.out}\n`);
    });
}
