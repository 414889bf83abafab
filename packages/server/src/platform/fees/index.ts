// Fees of the health information systems (Art. 19–20): schedules, the shared first issuance, statements.
export { feesMigrations } from './tables.js';
export { FeeSchedules, type FeeSchedule, type ClassPrices } from './schedule.js';
export { FeeStatements, statementCsv, fenToYuan, type Statement } from './statements.js';
export { allocate, splitEvenly, type ChargeLine } from './allocation.js';
export { registerFeeRoutes } from './routes.js';
