// The platform's registry of health information systems and of which holders use them.
export { systemsMigrations } from './tables.js';
export { InformationSystems, SYSTEM_CATEGORIES, USER_GROUPS, type InformationSystem, type Usage, type Unit } from './systems.js';
export { registerSystemRoutes } from './routes.js';
