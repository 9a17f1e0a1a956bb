/**
 * Structured logs (JSON lines, pino). Auth values and secrets are redacted by path as a
 * second line of defence: the code does not log them in the first place.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'hookline',
      level,
      base: { service: 'hookline' },
      redact: {
        paths: ['*.authorization', '*.headers.authorization', '*.secret', '*.password', '*.token', '*.auth', 'auth', 'secret'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
