/** The platform's probes of each CA's OCSP responders and CRL distribution points (Art. 11). */
export { probe, type ProbeOptions, type ProbeOutcome } from './check.js';
export { PROBE_BUCKETS, ProbeMonitor, percentile, probeCsv, type ProbeBucket, type ProbeDirectory, type ProbeMonitorOptions, type ProbeRecord, type ProbeSummary } from './monitor.js';
export { registerProbeRoutes } from './routes.js';
export { probeMigrations } from './tables.js';
export { MAX_URLS_PER_KIND, probeTargets, type CrlTarget, type OcspTarget, type ProbeTarget, type ProbedCa } from './targets.js';
