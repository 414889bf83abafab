/**
 * The few DER writers the signing code needs to add unsigned attributes to a SignedData. pki
 * keeps its writer internal (not exported), and these four functions are not worth widening its API.
 */

/** A TLV with a definite length (X.690 §8.1.3). */
export function tlv(tag: number, parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An OBJECT IDENTIFIER from its dotted text. */
export function oid(text: string): Buffer {
  const arcs = text.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const first = arcs[0]! * 40n + arcs[1]!;
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, [Buffer.from(out)]);
}

/** A DER SET OF: elements sorted by their encodings (X.690 §11.6). */
export function setOf(elements: Uint8Array[], tag = 0x31): Buffer {
  return tlv(tag, [...elements].map((e) => Buffer.from(e)).sort(Buffer.compare));
}
