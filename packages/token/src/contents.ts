/**
 * An application's secret contents — the private keys of its containers, with a copy of the
 * public mirror — sealed under the data key. Opening checks that the clear-text mirror in the file
 * still says what the sealed copy says, so a swapped certificate or public key is noticed at login.
 */
import { importPrivateKey, type PrivateKey } from '@health-pki/pki';
import { TokenError } from './errors.js';
import { SLOTS, type ApplicationRecord, type ContainerPublic, type SlotName } from './format.js';
import { contentsAad, seal, unseal } from './protection.js';

/** A slot's secret half. */
export interface SlotSecret {
  /** PKCS#8 DER of the private key. */
  privateKey?: Buffer;
}

/** A container's secret half. */
export interface ContainerSecret {
  name: string;
  signing: SlotSecret;
  encryption: SlotSecret;
}

/** What the sealed field holds once opened. */
export interface Contents {
  containers: ContainerSecret[];
  /** A copy of the public mirror, authenticated by the AEAD. */
  mirror: ContainerPublic[];
}

function b64(b: Uint8Array | undefined): string | undefined {
  return b ? Buffer.from(b).toString('base64') : undefined;
}

function fromB64(v: unknown): Buffer | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TokenError('corrupt', 'sealed contents are malformed');
  return Buffer.from(v, 'base64');
}

function encodeContents(c: Contents): Buffer {
  return Buffer.from(
    JSON.stringify({
      containers: c.containers.map((x) => ({ name: x.name, signing: { privateKey: b64(x.signing.privateKey) }, encryption: { privateKey: b64(x.encryption.privateKey) } })),
      mirror: c.mirror.map((m) => ({
        name: m.name,
        signing: { publicKey: b64(m.signing.publicKey), certificate: b64(m.signing.certificate) },
        encryption: { publicKey: b64(m.encryption.publicKey), certificate: b64(m.encryption.certificate) },
      })),
    }),
    'utf8',
  );
}

function decodeContents(plain: Buffer): Contents {
  try {
    const j = JSON.parse(plain.toString('utf8')) as { containers: Array<Record<string, any>>; mirror: Array<Record<string, any>> };
    return {
      containers: j.containers.map((x) => ({ name: String(x.name), signing: { privateKey: fromB64(x.signing?.privateKey) }, encryption: { privateKey: fromB64(x.encryption?.privateKey) } })),
      mirror: j.mirror.map((m) => ({
        name: String(m.name),
        signing: { publicKey: fromB64(m.signing?.publicKey), certificate: fromB64(m.signing?.certificate) },
        encryption: { publicKey: fromB64(m.encryption?.publicKey), certificate: fromB64(m.encryption?.certificate) },
      })),
    };
  } catch (e) {
    if (e instanceof TokenError) throw e;
    throw new TokenError('corrupt', 'sealed contents are malformed', { cause: e });
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}

function sameMirror(a: ContainerPublic[], b: ContainerPublic[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return x.name === y.name && SLOTS.every((s) => sameBytes(x[s].publicKey, y[s].publicKey) && sameBytes(x[s].certificate, y[s].certificate));
  });
}

/** Opens an application's contents with its data key; undefined when the key does not open them. */
export function tryOpenContents(tokenId: string, app: ApplicationRecord, dataKey: Uint8Array): Contents | undefined {
  const plain = unseal(app.cipher, dataKey, app.sealed, contentsAad(tokenId, app.name));
  if (!plain) return undefined;
  try {
    return decodeContents(plain);
  } finally {
    plain.fill(0);
  }
}

/** Opens the contents and checks the clear-text mirror against the sealed copy. */
export function openContents(tokenId: string, app: ApplicationRecord, dataKey: Uint8Array): Contents {
  const c = tryOpenContents(tokenId, app, dataKey);
  if (!c) throw new TokenError('corrupt', `the contents of application "${app.name}" do not open with its key (the file was altered)`);
  if (!sameMirror(c.mirror, app.containers)) {
    throw new TokenError('corrupt', `the public part of application "${app.name}" was altered outside the token (certificates or public keys differ from the sealed copy)`);
  }
  return c;
}

/** Seals `contents` into the application record and makes its clear-text mirror the sealed copy. */
export function sealContents(tokenId: string, app: ApplicationRecord, dataKey: Uint8Array, contents: Contents): void {
  const plain = encodeContents(contents);
  try {
    app.sealed = seal(app.cipher, dataKey, plain, contentsAad(tokenId, app.name));
  } finally {
    plain.fill(0);
  }
  app.containers = contents.mirror.map((m) => ({ name: m.name, signing: { ...m.signing }, encryption: { ...m.encryption } }));
}

/** The secret and public halves of a container, or TokenError "container.notFound". */
export function findContainer(c: Contents, name: string): { secret: ContainerSecret; mirror: ContainerPublic } {
  const secret = c.containers.find((x) => x.name === name);
  const mirror = c.mirror.find((x) => x.name === name);
  if (!secret || !mirror) throw new TokenError('container.notFound', `no container "${name}" (there are: ${c.mirror.map((m) => m.name).join(', ') || 'none'})`);
  return { secret, mirror };
}

/** The private key in a slot, or TokenError "container.slotEmpty". */
export function slotKey(c: Contents, container: string, slot: SlotName): PrivateKey {
  const { secret } = findContainer(c, container);
  const der = secret[slot].privateKey;
  if (!der) throw new TokenError('container.slotEmpty', `container "${container}" has no ${slot} key`);
  return importPrivateKey(der);
}

/** Empty contents for a new application. */
export function emptyContents(): Contents {
  return { containers: [], mirror: [] };
}
