/**
 * One guard for every text a request carries, before any route sees it:
 * Postgres refuses U+0000 in text (error 22021, which used to surface as a
 * 500), and control characters or unpaired surrogates have no business in a
 * name, a description or a query and break what Discord receives. So any
 * string in the body or the query string holding one is refused with a 400
 * naming the field, for every route at once (JSON API, forms, admin API,
 * webhook endpoints) rather than schema by schema. Tab, line feed and
 * carriage return stay allowed. Bodies nested deeper than any route reads
 * are refused too, so walking them stays cheap.
 */
import type { RequestHandler } from 'express';
import { z } from '@flipfix/config';

/**
 * C0 controls except tab, LF and CR; DEL; and (with the `u` flag, which reads
 * a surrogate pair as one code point) an unpaired UTF-16 surrogate.
 */
const BAD_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uD800-\uDFFF]/u;
const isBadText = (text: string): boolean => BAD_TEXT.test(text);

/** Deeper than any request shape the app accepts (settings are the deepest, at 3). */
export const MAX_INPUT_DEPTH = 8;

/** The first problem in `value` as `[path, reason]`, or null when it is clean. */
export function findBadInput(value: unknown, root: string): [string, string] | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    const name = () => (path.length === 0 ? root : path.join('.'));
    if (typeof current === 'string') {
      if (isBadText(current)) return [name(), 'must not contain control characters or invalid Unicode'];
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= MAX_INPUT_DEPTH) return [name(), 'is nested too deeply'];
    for (const [key, child] of Object.entries(current)) {
      if (isBadText(key)) return [name(), 'has a field name with control characters or invalid Unicode'];
      stack.push({ value: child, path: [...path, Array.isArray(current) ? Number(key) : key] });
    }
  }
  return null;
}

/**
 * Refuses a request whose body or query string holds a forbidden character
 * (or is nested too deeply) with a 400 naming the field, through the error
 * middleware like every other validation failure.
 */
export function inputGuard(): RequestHandler {
  return (req, _res, next) => {
    const problem = findBadInput(req.body, 'body') ?? findBadInput(req.query, 'query');
    if (problem === null) {
      next();
      return;
    }
    const [field, reason] = problem;
    next(new z.ZodError([{ code: 'custom', path: field === 'body' ? [] : field.split('.'), message: reason, input: undefined }]));
  };
}
