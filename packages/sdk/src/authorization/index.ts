/** Registration of certificate holders to local accounts and roles, by identity. */
export { AccountRegistry, RegistryError, type SeenCertificate } from './registry.js';
export { MemoryAccountStorage, JsonFileAccountStorage, type AccountRecord, type AccountStorage } from './storage.js';
