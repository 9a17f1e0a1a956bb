/**
 * MikroORM's configuration. The server builds it with the database it chose (embedded or
 * DATABASE_URL); the default export serves the MikroORM CLI, which reads DATABASE_URL.
 */
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './src/persistence/entities.js';
import { migrationsList } from './src/persistence/migrations/index.js';

export function createOrmConfig(databaseUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    debug: false,
    allowGlobalContext: false,
    pool: { min: 0, max: 10 },
    migrations: {
      tableName: 'hookline_migrations',
      migrationsList,
      pathTs: 'src/persistence/migrations',
      path: 'dist/src/persistence/migrations',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      silent: true,
      // Snapshots serve migration:create's diffing; at run time they would litter the source tree.
      snapshot: false,
    },
    ...overrides,
  });
}

export default createOrmConfig(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/hookline');
