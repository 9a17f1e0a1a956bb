/**
 * Errors the API shows to its callers. Each carries the code that ends up in a GraphQL
 * error's `extensions.code`; anything else that escapes is logged and masked.
 */
export abstract class HooklineError extends Error {
  abstract readonly code: string;
  constructor(message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends HooklineError {
  readonly code = 'BAD_USER_INPUT';
}

export class NotFoundError extends HooklineError {
  readonly code = 'NOT_FOUND';
  constructor(kind: string, id: string) {
    super(`${kind} ${id} was not found`, { kind, id });
  }
}

export class ConflictError extends HooklineError {
  readonly code = 'CONFLICT';
}

export class UnauthenticatedError extends HooklineError {
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends HooklineError {
  readonly code = 'FORBIDDEN';
}
