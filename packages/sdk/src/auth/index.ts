/** Certificate login: signed challenge and TLS client certificate. */
export { LoginVerifier, MemoryChallengeStore, loginToBeSigned, LOGIN_CONTEXT, type ChallengeStore, type LoginChallenge, type LoginSuccess, type LoginFailure, type LoginVerifierOptions } from './login.js';
export { fromTlsSocket, trustListCaPems } from './tls.js';
