/**
 * The one application error type. The web layer's error middleware maps
 * `code` to an HTTP status and shows `message` (always safe for users).
 */
export type AppErrorCode = 'not_found' | 'invalid' | 'conflict';

const STATUS: Record<AppErrorCode, number> = { not_found: 404, invalid: 400, conflict: 409 };

export interface AppErrorOptions {
  /** The input field at fault (camelCase, dotted for nested fields), for field-level messages. */
  field?: string | undefined;
  cause?: unknown;
}

/** A domain rule was broken; `status` is the HTTP status the web layer answers with. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: AppErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS[code];
    this.field = options.field;
  }
}

/** An id that names no record, e.g. `Problem report 42 not found`. */
export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  constructor(entity: string, id: number | string, options: AppErrorOptions = {}) {
    super('not_found', `${entity} ${id} not found`, options);
  }
}

/** True for any {@link AppError}, including {@link NotFoundError}. */
export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
