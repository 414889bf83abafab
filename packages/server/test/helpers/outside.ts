/**
 * The outside verifiers of packages/pki/test/helpers/outside.ts (OpenSSL CLI, BouncyCastle),
 * loaded from that package's compiled tests. They never use our library's code, so they judge
 * what this service issues independently. Typed here by the few functions the server tests use.
 */
type Der = Uint8Array | string;
interface Verdict {
  ok: boolean;
  output: string;
}
interface OutsideHelpers {
  opensslVerifyCert(o: { leaf: Der; chain?: Der[]; trusted: Der | Der[]; sm2Id?: string; at?: Date; purpose?: string }): Promise<Verdict>;
  bcCheck(jobs: Array<{ kind: 'cert'; cert: Der; issuer: Der } | { kind: 'path'; anchor: Der; chain: Der[]; at?: Date } | { kind: 'tsp'; token: Der; data?: Uint8Array } | { kind: 'ocsp'; response: Der; responder?: Der }>): Promise<Verdict[]>;
  opensslReqVerify(csr: Der, sm2Id?: string): Promise<Verdict>;
  /** Runs `openssl` in a temporary directory holding `files`; `outputs` are files read back afterwards. */
  openssl(args: string[], opts?: { files?: Record<string, Uint8Array | string>; stdin?: Uint8Array; outputs?: string[] }): Promise<{ code: number; stdout: string; stderr: string; outputs: Record<string, Buffer> }>;
}

const url = new URL('../../../../pki/dist/test/helpers/outside.js', import.meta.url);

/** Loads the verifiers (compiled by `tsc -b` with packages/pki). */
export async function outside(): Promise<OutsideHelpers> {
  return (await import(url.href)) as OutsideHelpers;
}
