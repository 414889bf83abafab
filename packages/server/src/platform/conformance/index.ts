/** The platform's automated conformance test of a CA and its client for the CAs' certificate query interface. */
export { ConformanceRunner, type ConformanceDocument, type ConformanceRunnerOptions } from './runner.js';
export { queryCertificates, normalizeSerial, QueryFailure, MAX_QUERY_SERIALS, type QueryAnswer, type QueryEntry, type QuerySigner } from './query-client.js';
export { registerConformanceRoutes, type ConformanceRouteDeps } from './routes.js';
export type { Fault, CheckName } from './faults.js';
