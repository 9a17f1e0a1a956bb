/**
 * Errors leave with a code in `extensions.code`. Our own errors keep their message; a lost
 * database connection becomes SERVICE_UNAVAILABLE; anything else is logged and masked.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HooklineError } from '../domain/errors.js';
import type { Logger } from '../logger.js';

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  const message = typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as { message: string }).message : '';
  return (code !== undefined && connectionErrorCodes.has(code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message);
}

/**
 * What the resolver threw. graphql-js wraps a thrown value that is not `instanceof Error` (an
 * error from another realm, e.g. Node's own socket errors seen from inside a vm context) in a
 * NonErrorThrown that keeps it as `thrownValue`: unwrap that too, or its code is lost.
 */
function originalOf(error: unknown): unknown {
  let current = error;
  for (;;) {
    if (current instanceof GraphQLError && current.originalError) current = current.originalError;
    else if (current instanceof Error && current.name === 'NonErrorThrown' && 'thrownValue' in current) current = current.thrownValue;
    else return current;
  }
}

export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = originalOf(error);
    if (original instanceof HooklineError) {
      return { ...formatted, message: original.message, extensions: { ...formatted.extensions, ...original.details, code: original.code } };
    }
    if (formatted.extensions?.['code'] && formatted.extensions['code'] !== 'INTERNAL_SERVER_ERROR') return formatted;
    if (isDatabaseUnavailable(original)) {
      return { message: 'The database is not reachable right now; nothing was stored. Try again shortly.', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
    }
    // type-graphql reports bad argument values (enum values, scalars) as plain errors.
    if (original instanceof GraphQLError || (original instanceof Error && /^(Argument Validation Error|Expected|Value|Variable)/.test(original.message))) {
      return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
