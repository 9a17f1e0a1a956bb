/**
 * The composition root, and the only place that handles signals. SIGTERM or SIGINT stops
 * gracefully: no new claims, attempts in flight finish (or are handed back), then the
 * server, the ORM and the embedded database close. A second signal exits at once.
 */
import 'reflect-metadata';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startHookline } from './server/hookline.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);

try {
  const hookline = await startHookline({ config, logger });
  if (hookline.initialApiKey) {
    // Shown once, outside the structured logs (which never carry secrets), for the first user.
    process.stdout.write(
      `\nHookline created the project "default" and its first API key (also in ${config.dataDir}/api-key):\n\n    ${hookline.initialApiKey}\n\n` +
        'Send it as "Authorization: Bearer <key>". It is not shown again.\n\n',
    );
  }
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    hookline.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
} catch (error) {
  logger.fatal({ err: error }, 'Hookline could not start');
  process.exit(1);
}
