/** Starts Hookline in this process on a test database, on a free port, with quiet logs. */
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startHookline, type Hookline, type HooklineOptions } from '../../src/server/hookline.js';

export interface TestAppOptions extends Partial<Omit<HooklineOptions, 'config' | 'logger'>> {
  databaseUrl: string;
  dispatcher?: Partial<Config['dispatcher']>;
}

export async function startTestApp(options: TestAppOptions): Promise<Hookline> {
  const base = loadConfig({});
  const config: Config = {
    ...base,
    port: 0,
    host: '127.0.0.1',
    databaseUrl: options.databaseUrl,
    dispatcher: { ...base.dispatcher, shutdownGraceMs: 2000, ...options.dispatcher },
  };
  const { databaseUrl: _databaseUrl, dispatcher: _dispatcher, ...rest } = options;
  return startHookline({ config, logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'), ...rest });
}
