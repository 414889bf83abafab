/** DER encoding of the (r, s) pair shared by ECDSA and SM2 signatures: SEQUENCE { INTEGER r, INTEGER s }. */

function intBytes(x: bigint): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return b;
}

/** Encodes r and s as a DER SEQUENCE of two INTEGERs. */
export function encodeEcdsaSignature(r: bigint, s: bigint): Uint8Array {
  const rb = intBytes(r);
  const sb = intBytes(s);
  const body = Buffer.concat([Buffer.from([0x02, rb.length]), rb, Buffer.from([0x02, sb.length]), sb]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Decodes a strict-DER SEQUENCE{r, s}; returns undefined for anything else. */
export function decodeEcdsaSignature(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  const b = Buffer.from(der);
  if (b.length < 8 || b[0] !== 0x30 || b[1]! >= 0x80 || b[1]! + 2 !== b.length) return undefined;
  let off = 2;
  const out: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    if (b[off] !== 0x02) return undefined;
    const len = b[off + 1]!;
    if (len === 0 || len > 33 || off + 2 + len > b.length) return undefined;
    const v = b.subarray(off + 2, off + 2 + len);
    // Reject non-minimal and negative encodings, as DER requires.
    if (v[0]! & 0x80) return undefined;
    if (len > 1 && v[0] === 0 && !(v[1]! & 0x80)) return undefined;
    out.push(BigInt('0x' + v.toString('hex')));
    off += 2 + len;
  }
  if (off !== b.length) return undefined;
  return { r: out[0]!, s: out[1]! };
}
