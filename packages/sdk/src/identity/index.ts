/** The holder's identity in one normalised form. */
export { readHolderIdentity, identityKey, normalizeResidentId, type HolderIdentity, type HolderKind } from './identity.js';
