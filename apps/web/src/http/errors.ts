/**
 * The one error middleware: maps the application's {@link AppError} codes,
 * validation failures and body-parser errors to HTTP statuses and safe JSON
 * (or a page, for browsers on human routes). Nothing else answers with an
 * error body, so every client sees one shape:
 * `{ error, message, fields? }`. Stacks never leave the process.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { fieldsOf, z } from '@flipfix/config';
import { AppError, isAppError } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';
import { errorPage } from '../views/pages-common';

/** The `error` values a client can branch on. */
export type ErrorBodyCode =
  | 'invalid_request'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_requests'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal';

export interface ErrorBody {
  error: ErrorBodyCode;
  message: string;
  /** Field (camelCase, dotted when nested) → reason. */
  fields?: Record<string, string>;
  requestId?: string;
}

/** Attaches a request id (honouring a sane incoming `x-request-id`) for log correlation. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('x-request-id', id);
    next();
  };
}


/**
 * An error body-parser (or the decompression stream under it) raised while
 * reading the request: http-errors with a 4xx `status`, and a `type` for the
 * failures body-parser names itself (a body that does not gunzip has none).
 */
interface BodyReadError extends Error {
  type?: string;
  status: number;
  expose: true;
}

function isBodyReadError(err: unknown): err is BodyReadError {
  const e = err as { status?: unknown; expose?: unknown };
  // `expose` marks http-errors' client errors, whose message is safe to show.
  return err instanceof Error && e.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

/** Maps any thrown value to a status and a safe body. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof z.ZodError) {
    const fields = fieldsOf(err);
    const [first] = Object.entries(fields);
    return {
      status: 400,
      body: { error: 'invalid_request', message: first ? `${first[0]}: ${first[1]}` : 'invalid request', fields },
    };
  }
  if (isAppError(err)) {
    // An id inside the body that names no record is bad input, not a missing resource.
    if (err.code === 'invalid' || (err.code === 'not_found' && err.field !== undefined)) {
      return {
        status: 400,
        body: {
          error: 'invalid_request',
          message: err.message,
          ...(err.field === undefined ? {} : { fields: { [err.field]: err.message } }),
        },
      };
    }
    if (err.code === 'not_found') return { status: 404, body: { error: 'not_found', message: err.message } };
    return {
      status: err.status,
      body: { error: 'conflict', message: err.message, ...(err.field === undefined ? {} : { fields: { [err.field]: err.message } }) },
    };
  }
  // Express's router could not percent-decode a path parameter (`/api/machines/%E0%A4%A`).
  if (err instanceof URIError) {
    return { status: 400, body: { error: 'invalid_request', message: 'the address is not validly percent-encoded', fields: { path: 'malformed percent-encoding' } } };
  }
  if (isBodyReadError(err)) {
    if (err.type === 'entity.too.large') {
      return { status: 413, body: { error: 'payload_too_large', message: 'request body is larger than 1 MB', fields: { body: 'too large' } } };
    }
    if (err.type === 'entity.parse.failed') {
      return { status: 400, body: { error: 'invalid_request', message: 'body is not valid JSON', fields: { body: 'malformed JSON' } } };
    }
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      const what = err.type === 'encoding.unsupported' ? 'Content-Encoding (use gzip, deflate, br or none)' : 'charset (use utf-8)';
      return { status: 415, body: { error: 'unsupported_media_type', message: `unsupported ${what}`, fields: { body: `unsupported ${what}` } } };
    }
    if (typeof (err as { code?: unknown }).code === 'string') {
      // A body whose Content-Encoding says gzip, deflate or br but that does not decompress.
      return { status: 400, body: { error: 'invalid_request', message: 'the request body could not be decompressed', fields: { body: 'does not match its Content-Encoding' } } };
    }
    return { status: 400, body: { error: 'invalid_request', message: err.message.slice(0, 200) } };
  }
  return { status: 500, body: { error: 'internal', message: 'something went wrong on our side' } };
}

/** True when the client asked for a page rather than JSON. */
export function wantsHtml(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path === '/health' || req.path === '/metrics') return false;
  return req.accepts(['html', 'json']) === 'html';
}

/** The 404 for anything no route matched. */
export function notFound(): RequestHandler {
  return (req, res) => {
    if (wantsHtml(req)) {
      res.status(404).type('html').send(errorPage(404, 'Not found', 'There is nothing at this address.').toString());
      return;
    }
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` } satisfies ErrorBody);
  };
}

/** The error middleware. Unexpected errors are logged with the request id and answered with a bare 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toErrorResponse(err);
    const id = typeof res.locals.requestId === 'string' ? res.locals.requestId : undefined;
    if (status >= 500) {
      log.error({ err, requestId: id, method: req.method, path: req.path }, 'request failed');
      if (id !== undefined) body.requestId = id;
    }
    if (res.headersSent) return;
    if (wantsHtml(req)) {
      const title = status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'That did not work';
      res.status(status).type('html').send(errorPage(status, title, body.message).toString());
      return;
    }
    res.status(status).json(body);
  };
}

export { AppError };
