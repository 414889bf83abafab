/**
 * An RFC 3161 time-stamp client: sends a TimeStampReq over HTTP (RFC 3161 §3.4), and accepts the
 * answer only when the token verifies — signature, ESS binding, timeStamping purpose, the TSA's
 * trust at genTime (trusted roots, e.g. from the trust list, or a pinned TSA certificate), our
 * imprint and our nonce. A token that does not verify is never handed back.
 */
import { ParseError, TimeStampResponse, buildTimeStampRequest, verifyTimeStampToken, type Certificate, type HashName, type TimeStampValid } from '@health-pki/pki';

/** A token with a few certificates is a few KiB; anything much larger is not a time-stamp response. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** Why stamping failed; `code` is stable, `message` is for a person. */
export class TimestampError extends Error {
  constructor(
    readonly code: 'network' | 'http' | 'malformedResponse' | 'notGranted' | 'invalidToken',
    message: string,
  ) {
    super(message);
    this.name = 'TimestampError';
  }
}

/** How the client reaches and trusts a TSA. */
export interface TsaClientOptions {
  /** The TSA's URL, e.g. https://ca.example/tsa or …/tsa/sm2. */
  url: string;
  /** Trust anchors the TSA certificate must chain to at genTime (e.g. the trust list's CA certificates). */
  trusted?: Certificate[];
  /** Or a pinned TSA certificate (trusted directly). At least one of the two is required. */
  tsaCert?: Certificate;
  /** Intermediates for the TSA certificate's path besides those in the token. */
  intermediates?: Certificate[];
  /** Imprint hash (default SHA-256; use 'sm3' for an SM2 TSA). */
  hash?: HashName;
  /** Request timeout in milliseconds (default 10 s): a hung TSA must not hang the signer. */
  timeoutMs?: number;
  /** Acceptable TSA policies (default any). */
  policies?: string[];
  /** fetch implementation (default the global one). */
  fetch?: typeof fetch;
}

/** A verified time-stamp: the token DER and what it certifies. */
export interface TimeStamp {
  /** The TimeStampToken (a ContentInfo), as an unsigned attribute or a sidecar carries it. */
  token: Buffer;
  genTime: Date;
  serialHex: string;
  policy: string;
  tsaCert: Certificate;
  verification: TimeStampValid;
}

/** A client of one TSA. */
export class TsaClient {
  readonly url: string;
  private readonly opts: TsaClientOptions;

  constructor(opts: TsaClientOptions) {
    if (!opts.trusted?.length && !opts.tsaCert) throw new TypeError('TsaClient needs trusted certificates or a pinned TSA certificate: an unverified token proves nothing');
    this.url = opts.url;
    this.opts = opts;
  }

  /** The hash this client stamps with. */
  get hash(): HashName {
    return this.opts.hash ?? 'sha256';
  }

  /** Time-stamps `data` (hashed here; the TSA sees only the hash). Throws TimestampError. */
  async stamp(data: Uint8Array): Promise<TimeStamp> {
    const req = buildTimeStampRequest({ data, hash: this.hash, nonce: true, certReq: true });
    const body = await this.exchange(req.der);
    let resp: TimeStampResponse;
    try {
      resp = TimeStampResponse.parse(body);
    } catch (e) {
      if (e instanceof ParseError) throw new TimestampError('malformedResponse', `the TSA at ${this.url} sent no TimeStampResp: ${e.message}`);
      throw e;
    }
    const v = verifyTimeStampToken(resp, { data, nonce: req.nonce, trusted: this.opts.trusted, tsaCert: this.opts.tsaCert, intermediates: this.opts.intermediates, policies: this.opts.policies });
    if (!v.valid) throw new TimestampError(v.code === 'notGranted' ? 'notGranted' : 'invalidToken', `the TSA's answer was refused (${v.code}): ${v.message}`);
    return { token: v.token.der, genTime: v.genTime, serialHex: v.serialHex, policy: v.policy, tsaCert: v.tsaCert, verification: v };
  }

  /** Sends a DER TimeStampReq and returns the TSA's raw answer, unverified (the SOF facade's CreateTimeStampResponse). */
  async exchange(request: Uint8Array): Promise<Buffer> {
    const f = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: request,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (e) {
      throw new TimestampError('network', `the TSA at ${this.url} could not be reached: ${(e as Error).message}`);
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new TimestampError('network', `the TSA at ${this.url} broke off its answer: ${(e as Error).message}`);
    }
    if (!res.ok) throw new TimestampError('http', `the TSA at ${this.url} answered HTTP ${res.status}`);
    if (body.length > MAX_RESPONSE_BYTES) throw new TimestampError('malformedResponse', `the TSA at ${this.url} sent ${body.length} bytes; a time-stamp response is far smaller`);
    return body;
  }

  /** The trust this client verifies tokens with (for verifying stored responses later). */
  get trust(): { trusted?: Certificate[]; tsaCert?: Certificate; intermediates?: Certificate[] } {
    return { trusted: this.opts.trusted, tsaCert: this.opts.tsaCert, intermediates: this.opts.intermediates };
  }
}
