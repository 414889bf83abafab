/** RFC 3161 time-stamping for signed records: the TSA client. */
export { TsaClient, TimestampError, type TsaClientOptions, type TimeStamp } from './tsa-client.js';
