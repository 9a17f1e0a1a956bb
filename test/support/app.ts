/** Starts Hookline in this process on a test database, on a free port, with quiet logs. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { apiKeysByDatabaseUrl } from './database.js';
import { registerApiKey } from './graphql.js';
import { createLogger } from '../../src/logger.js';
import { startHookline, type Hookline, type HooklineOptions } from '../../src/server/hookline.js';

export interface TestAppOptions extends Partial<Omit<HooklineOptions, 'config' | 'logger'>> {
  databaseUrl: string;
  dispatcher?: Partial<Config['dispatcher']>;
  /** Other settings to override (network, limits, health, adminToken, ...). */
  config?: Partial<Omit<Config, 'dispatcher'>>;
}

/**
 * Receivers in tests listen on 127.0.0.1, so private networks are allowed here (the address
 * policy's own tests turn that off). The app is registered with its database's API key; on a
 * database without a project, the key the app creates on its first start is used.
 */
export async function startTestApp(options: TestAppOptions): Promise<Hookline> {
  const base = loadConfig({});
  const config: Config = {
    ...base,
    port: 0,
    host: '127.0.0.1',
    databaseUrl: options.databaseUrl,
    dataDir: await mkdtemp(path.join(os.tmpdir(), 'hookline-test-data-')),
    network: { allowPrivateNetworks: true },
    ...options.config,
    dispatcher: { ...base.dispatcher, shutdownGraceMs: 2000, ...options.dispatcher },
  };
  const { databaseUrl: _databaseUrl, dispatcher: _dispatcher, config: _config, ...rest } = options;
  const app = await startHookline({ config, logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'), ...rest });
  const apiKey = apiKeysByDatabaseUrl.get(options.databaseUrl) ?? app.initialApiKey;
  if (apiKey) {
    apiKeysByDatabaseUrl.set(options.databaseUrl, apiKey);
    registerApiKey(app.url, apiKey);
  }
  return app;
}
