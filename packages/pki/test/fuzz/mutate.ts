/**
 * Seeded, DER-aware input mutation for fuzzing the parsers. Every case is reproducible from
 * (seed, case number) alone: the runner derives one PRNG per case with `caseRng`.
 */

/** A small deterministic PRNG (mulberry32) with the helpers mutators need. */
export interface Rng {
  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** Creates the mulberry32 generator for a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const int = (n: number): number => (n <= 0 ? 0 : u32() % n);
  return {
    u32,
    int,
    chance: (p) => u32() / 2 ** 32 < p,
    pick: (items) => items[int(items.length)]!,
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = u32() & 0xff;
      return b;
    },
  };
}

/** The PRNG for case `index` of a run with `seed`, independent of every other case. */
export function caseRng(seed: number, index: number): Rng {
  // splitmix32-style mixing so that neighbouring cases start far apart.
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return mulberry32((h ^ (h >>> 16)) >>> 0);
}

// ---------------------------------------------------------------------------------------------
// A lenient DER tree: what parses as TLVs becomes nodes; anything else stays raw bytes.

/** One TLV of the tree. Constructed (or encapsulating) nodes have children, others a value. */
export interface DerNode {
  /** The identifier octets, as found (one or more bytes). */
  tag: Buffer;
  children?: DerNode[];
  value?: Buffer;
  /** For BIT STRING: the unused-bits byte in front of encapsulated DER. */
  prefix?: Buffer;
}

const MAX_TREE_DEPTH = 48;

interface Header {
  tag: Buffer;
  valueStart: number;
  end: number;
}

function readHeader(buf: Buffer, pos: number, limit: number): Header | undefined {
  let p = pos;
  if (p >= limit) return undefined;
  const first = buf[p++]!;
  if ((first & 0x1f) === 0x1f) {
    // High tag number form: continuation bytes until one without bit 8.
    for (let n = 0; ; n++) {
      if (p >= limit || n > 4) return undefined;
      if (!(buf[p++]! & 0x80)) break;
    }
  }
  const tag = buf.subarray(pos, p);
  if (p >= limit) return undefined;
  const l0 = buf[p++]!;
  let len = l0;
  if (l0 & 0x80) {
    const n = l0 & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) return undefined;
  return { tag, valueStart: p, end: p + len };
}

function parseSeq(buf: Buffer, start: number, end: number, depth: number): DerNode[] | undefined {
  const nodes: DerNode[] = [];
  for (let p = start; p < end; ) {
    const h = readHeader(buf, p, end);
    if (!h) return undefined;
    nodes.push(toNode(buf, h, depth));
    p = h.end;
  }
  return nodes;
}

function toNode(buf: Buffer, h: Header, depth: number): DerNode {
  const tag = Buffer.from(h.tag);
  const value = buf.subarray(h.valueStart, h.end);
  if (depth < MAX_TREE_DEPTH && value.length > 0) {
    if (tag[0]! & 0x20) {
      const kids = parseSeq(buf, h.valueStart, h.end, depth + 1);
      if (kids) return { tag, children: kids };
    } else if (tag[0] === 0x04 && value.length >= 2 && (value[0] === 0x30 || value[0] === 0x31 || value[0] === 0x04)) {
      // OCTET STRING holding DER (PKCS#8 privateKey, extnValue, OCSP response bytes).
      const kids = parseSeq(buf, h.valueStart, h.end, depth + 1);
      if (kids) return { tag, children: kids };
    } else if (tag[0] === 0x03 && value.length >= 3 && value[0] === 0 && value[1] === 0x30) {
      // BIT STRING holding DER (SubjectPublicKeyInfo of RSA keys, signatures of ECDSA/SM2).
      const kids = parseSeq(buf, h.valueStart + 1, h.end, depth + 1);
      if (kids) return { tag, children: kids, prefix: Buffer.from([0]) };
    }
  }
  return { tag, value: Buffer.from(value) };
}

/** Parses DER as far as it is well-formed; returns undefined if even the top level is not. */
export function parseTree(der: Buffer): DerNode[] | undefined {
  const nodes = parseSeq(der, 0, der.length, 0);
  return nodes && nodes.length > 0 ? nodes : undefined;
}

/** Encodes a definite length in minimal DER form. */
export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Re-encodes a tree with correct lengths. */
export function encodeTree(nodes: DerNode[]): Buffer {
  return Buffer.concat(nodes.map(encodeNode));
}

function encodeNode(n: DerNode): Buffer {
  const body = n.children ? Buffer.concat([n.prefix ?? Buffer.alloc(0), encodeTree(n.children)]) : n.value ?? Buffer.alloc(0);
  return Buffer.concat([n.tag, encodeLength(body.length), body]);
}

function cloneNode(n: DerNode): DerNode {
  return {
    tag: Buffer.from(n.tag),
    ...(n.children ? { children: n.children.map(cloneNode) } : {}),
    ...(n.value ? { value: Buffer.from(n.value) } : {}),
    ...(n.prefix ? { prefix: Buffer.from(n.prefix) } : {}),
  };
}

/** Every node of the tree with the list that holds it, depth first. */
function allNodes(nodes: DerNode[]): Array<{ node: DerNode; siblings: DerNode[]; index: number }> {
  const out: Array<{ node: DerNode; siblings: DerNode[]; index: number }> = [];
  const walk = (list: DerNode[]) =>
    list.forEach((node, index) => {
      out.push({ node, siblings: list, index });
      if (node.children) walk(node.children);
    });
  walk(nodes);
  return out;
}

/** Offsets of every TLV header in well-formed regions of the input: [start, lengthStart, valueStart). */
export function headerOffsets(der: Buffer): Array<{ start: number; lengthStart: number; valueStart: number }> {
  const out: Array<{ start: number; lengthStart: number; valueStart: number }> = [];
  const walk = (start: number, end: number, depth: number) => {
    for (let p = start; p < end; ) {
      const h = readHeader(der, p, end);
      if (!h) return;
      out.push({ start: p, lengthStart: p + h.tag.length, valueStart: h.valueStart });
      if (depth < MAX_TREE_DEPTH && der[p]! & 0x20) walk(h.valueStart, h.end, depth + 1);
      else if (depth < MAX_TREE_DEPTH && der[p] === 0x04 && h.end - h.valueStart >= 2 && der[h.valueStart] === 0x30) walk(h.valueStart, h.end, depth + 1);
      p = h.end;
    }
  };
  walk(0, der.length, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutators. Each returns a new buffer and never modifies its input.

/** A named mutation. `others` are the target's seeds, for splicing. */
export interface Mutator {
  name: string;
  apply(input: Buffer, rng: Rng, others: readonly Buffer[]): Buffer;
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xff, 0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0xa0];

/** Flips 1–8 random bits. */
export const flipBits: Mutator = {
  name: 'flipBits',
  apply(input, rng) {
    const out = Buffer.from(input);
    if (out.length === 0) return out;
    for (let n = 1 + rng.int(8); n > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
};

/** Sets 1–4 random bytes to boundary values or random ones. */
export const setBytes: Mutator = {
  name: 'setBytes',
  apply(input, rng) {
    const out = Buffer.from(input);
    if (out.length === 0) return out;
    for (let n = 1 + rng.int(4); n > 0; n--) out[rng.int(out.length)] = rng.chance(0.7) ? rng.pick(INTERESTING) : rng.int(256);
    return out;
  },
};

/** Cuts the input at a random point (sometimes just before the end). */
export const truncate: Mutator = {
  name: 'truncate',
  apply(input, rng) {
    if (input.length === 0) return Buffer.from(input);
    const at = rng.chance(0.3) ? Math.max(0, input.length - 1 - rng.int(4)) : rng.int(input.length);
    return Buffer.from(input.subarray(0, at));
  },
};

/**
 * Rewrites the length field of a random TLV header: off by one, zero, indefinite (0x80), huge
 * long forms (0x84 ff ff ff ff), non-minimal forms (0x81 05, 0x82 00 05), or a reserved 0xff.
 */
export const corruptLength: Mutator = {
  name: 'corruptLength',
  apply(input, rng) {
    const headers = headerOffsets(input);
    if (headers.length === 0) return flipBits.apply(input, rng, []);
    const h = rng.pick(headers);
    const current = h.valueStart - h.lengthStart === 1 ? input[h.lengthStart]! : readLongLength(input, h.lengthStart);
    const choices: Buffer[] = [
      encodeLength(current + 1),
      encodeLength(Math.max(0, current - 1)),
      Buffer.from([0x00]),
      Buffer.from([0x80]),
      Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x84, 0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0x84, 0x00, 0x00, 0x00, current & 0xff]),
      Buffer.from([0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x81, current & 0x7f]),
      Buffer.from([0x82, (current >> 8) & 0xff, current & 0xff]),
      Buffer.from([0xff]),
      encodeLength(rng.u32() & 0xffffff),
    ];
    return Buffer.concat([input.subarray(0, h.lengthStart), rng.pick(choices), input.subarray(h.valueStart)]);
  },
};

function readLongLength(buf: Buffer, at: number): number {
  const n = buf[at]! & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[at + 1 + i]!;
  return len;
}

/** Structural edits on the DER tree, re-encoded with consistent lengths so outer layers still parse. */
export const treeEdit: Mutator = {
  name: 'treeEdit',
  apply(input, rng, others) {
    const tree = parseTree(input);
    if (!tree) return setBytes.apply(input, rng, others);
    const nodes = allNodes(tree);
    const { node, siblings, index } = rng.pick(nodes);
    switch (rng.int(8)) {
      case 0: // duplicate a TLV next to itself
        siblings.splice(index, 0, cloneNode(node));
        break;
      case 1: // delete a TLV
        siblings.splice(index, 1);
        break;
      case 2: {
        // swap with a sibling
        const j = rng.int(siblings.length);
        [siblings[index], siblings[j]] = [siblings[j]!, siblings[index]!];
        break;
      }
      case 3: // change the tag
        siblings[index] = { ...node, tag: Buffer.from([rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256)]) };
        break;
      case 4: // replace the content with random bytes
        siblings[index] = { tag: node.tag, value: rng.bytes(rng.int(rng.chance(0.9) ? 40 : 600)) };
        break;
      case 5: // empty the content
        siblings[index] = { tag: node.tag, value: Buffer.alloc(0) };
        break;
      case 6: {
        // insert a TLV taken from another seed
        const donorTree = parseTree(rng.pick(others.length ? others : [input]));
        if (donorTree) siblings.splice(rng.int(siblings.length + 1), 0, cloneNode(rng.pick(allNodes(donorTree)).node));
        break;
      }
      default: // wrap in a SEQUENCE or SET
        siblings[index] = { tag: Buffer.from([rng.chance(0.5) ? 0x30 : 0x31]), children: [node] };
    }
    return encodeTree(tree);
  },
};

/** Builds `depth` nested SEQUENCE (or SET, or [0]) headers with consistent lengths around `core`. */
export function nested(depth: number, core: Buffer, tag = 0x30): Buffer {
  // Encode from the inside out into one buffer to keep this linear in depth.
  const parts: Buffer[] = [core];
  let len = core.length;
  for (let i = 0; i < depth; i++) {
    const h = Buffer.concat([Buffer.from([tag]), encodeLength(len)]);
    parts.push(h);
    len += h.length;
  }
  return Buffer.concat(parts.reverse());
}

/** Deep nesting: thousands of nested headers, alone, in place of a TLV, or indefinite-length. */
export const deepNesting: Mutator = {
  name: 'deepNesting',
  apply(input, rng) {
    const depth = rng.pick([64, 256, 1000, 10_000]);
    const tag = rng.pick([0x30, 0x31, 0xa0, 0x24]);
    switch (rng.int(3)) {
      case 0:
        return nested(depth, Buffer.from([0x05, 0x00]), tag);
      case 1: {
        // Indefinite lengths, never closed (BER, which DER forbids).
        return Buffer.concat([Buffer.alloc(depth * 2, Buffer.from([tag, 0x80])), input.subarray(0, 16)]);
      }
      default: {
        const tree = parseTree(input);
        if (!tree) return nested(depth, input, tag);
        const { siblings, index } = rng.pick(allNodes(tree));
        siblings[index] = { tag: Buffer.from([tag]), value: nested(depth - 1, Buffer.from([0x05, 0x00]), tag) };
        return encodeTree(tree);
      }
    }
  },
};

/** Random bytes: a fresh buffer, or a random run spliced into the input. */
export const randomBytes: Mutator = {
  name: 'randomBytes',
  apply(input, rng) {
    if (rng.chance(0.3) || input.length === 0) return rng.bytes(rng.int(rng.chance(0.8) ? 64 : 4096));
    const at = rng.int(input.length + 1);
    const cut = rng.int(Math.min(32, input.length - at) + 1);
    return Buffer.concat([input.subarray(0, at), rng.bytes(1 + rng.int(32)), input.subarray(at + cut)]);
  },
};

/** Inserts a copy of a random TLV (header and value) at a random offset, without fixing lengths. */
export const insertTlv: Mutator = {
  name: 'insertTlv',
  apply(input, rng) {
    const headers = headerOffsets(input);
    if (headers.length === 0) return randomBytes.apply(input, rng, []);
    const h = rng.pick(headers);
    const copy = input.subarray(h.start, readHeader(input, h.start, input.length)?.end ?? h.valueStart);
    const at = rng.pick(headers).start;
    return Buffer.concat([input.subarray(0, at), copy, input.subarray(at)]);
  },
};

/** Joins the head of the input with the tail of another seed. */
export const splice: Mutator = {
  name: 'splice',
  apply(input, rng, others) {
    const other = others.length ? rng.pick(others) : input;
    return Buffer.concat([input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1))]);
  },
};

/** All mutators, with weights (structural ones more often than pure noise). */
export const MUTATORS: ReadonlyArray<readonly [Mutator, number]> = [
  [flipBits, 4],
  [setBytes, 3],
  [truncate, 2],
  [corruptLength, 4],
  [treeEdit, 5],
  [insertTlv, 2],
  [deepNesting, 1],
  [randomBytes, 1],
  [splice, 1],
];

const TOTAL_WEIGHT = MUTATORS.reduce((s, [, w]) => s + w, 0);

function pickMutator(rng: Rng): Mutator {
  let r = rng.int(TOTAL_WEIGHT);
  for (const [m, w] of MUTATORS) {
    if (r < w) return m;
    r -= w;
  }
  return MUTATORS[0]![0];
}

/** Applies 1–3 random mutations to a random seed; returns the input and the mutations' names. */
export function mutate(seeds: readonly Buffer[], rng: Rng): { input: Buffer; ops: string[] } {
  const seedIndex = rng.int(seeds.length);
  let input = seeds[seedIndex]!;
  const ops = [`seed#${seedIndex}`];
  for (let n = 1 + (rng.chance(0.6) ? 0 : rng.int(3)); n > 0; n--) {
    const m = pickMutator(rng);
    input = m.apply(input, rng, seeds);
    ops.push(m.name);
  }
  return { input, ops };
}
