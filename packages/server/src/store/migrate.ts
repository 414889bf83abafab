/**
 * Schema migrations, in code. Each service module owns its tables and ships its own migrations;
 * each module's migrations run with their own Kysely Migrator and bookkeeping table
 * (`migrations_<module>`), so one module's history never constrains another's ordering.
 */
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database, DialectName } from './database.js';

/** The migrations of one service module, built for a dialect. Names sort in the order they run. */
export interface ModuleMigrations {
  module: string;
  migrations(dialect: DialectName): Record<string, Migration>;
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/** Applies every pending migration of every module, in the order given; throws on the first failure. */
export async function migrate(database: Database, modules: ModuleMigrations[]): Promise<string[]> {
  const applied: string[] = [];
  for (const m of modules) {
    if (!/^[a-z][a-z0-9_]*$/.test(m.module)) throw new Error(`bad module name for migrations: ${m.module}`);
    const migrator = new Migrator({
      db: database.db,
      provider: new InCodeProvider(m.migrations(database.dialect)),
      migrationTableName: `migrations_${m.module}`,
      migrationLockTableName: `migrations_${m.module}_lock`,
    });
    const { error, results } = await migrator.migrateToLatest();
    for (const r of results ?? []) {
      if (r.status === 'Success') applied.push(`${m.module}/${r.migrationName}`);
    }
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '?';
      throw new Error(`migration ${m.module}/${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return applied;
}
