/** The platform's sync module: signed messages, exactly-once application, statistics, and the CA's outbox. */
export { SyncApplier, type ApplyResult, type ApplyStatus, type SyncApplierOptions } from './applier.js';
export { MAX_BATCH, SYNC_KINDS, messageDigest, parseSyncBatch, signSyncBatch, type SyncBatch, type SyncKind, type SyncMessage } from './message.js';
export { OutboxSender, enqueueSyncEvent, type OutboxSenderOptions, type OutboxState, type SyncEvent } from './outbox.js';
export { SYNC_BATCH_TYPES, registerSyncRoutes, type SyncRouteDeps } from './routes.js';
export { STATS_BUCKETS, STATS_DIMENSIONS, SyncStatistics, csvField, statsCsv, statsTimeseries, timeseriesCsv, type StatsBucket, type StatsDimension, type StatsQuery, type StatsRow, type TimeseriesPoint, type TimeseriesQuery } from './stats.js';
export { outboxMigrations, syncMigrations, type OutboxTables, type SyncTables } from './tables.js';
