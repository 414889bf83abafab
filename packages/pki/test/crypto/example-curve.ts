import type { Sm2Curve } from '../../src/crypto/sm2-core.js';

/**
 * The example curve Fp-256 of GM/T 0003 (GB/T 32918) Appendix A; its worked examples use it, not
 * the recommended curve. Values as in BouncyCastle's SM2SignerTest / SM2EngineTest.
 */
export const EXAMPLE_CURVE: Sm2Curve = {
  p: 0x8542d69e4c044f18e8b92435bf6ff7de457283915c45517d722edb8b08f1dfc3n,
  a: 0x787968b4fa32c3fd2417842e73bbfeff2f3c848b6831d7e0ec65228b3937e498n,
  b: 0x63e4c6d3b23b0c849cf84241484bfe48f61d59a5b16ba06e6e12d1da27c5249an,
  n: 0x8542d69e4c044f18e8b92435bf6ff7dd297720630485628d5ae74ee7c32e79b7n,
  Gx: 0x421debd61b62eab6746434ebc3cc315e32220b3badd50bdc4c4e6c147fedd43dn,
  Gy: 0x0680512bcbb42c07d47349d2153b70c4e5d7fdfcbfa36ea1a85841b9e46e09a2n,
  h: 1n,
};
