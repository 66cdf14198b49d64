/** Request parsing helpers: ids and query strings, with the error types the middleware maps. */
import { httpUrlSchema, z } from '@flipfix/config';
import { NotFoundError } from '@flipfix/db';

const MAX_INT4 = 2_147_483_647;

/**
 * A numeric path id; anything else (letters, zero, out of range) names no
 * record, so it is a 404 rather than a 400.
 */
export function parseId(value: unknown, entity: string): number {
  const text = typeof value === 'string' ? value : '';
  if (!/^\d{1,10}$/.test(text)) throw new NotFoundError(entity, text.slice(0, 40));
  const id = Number(text);
  if (id < 1 || id > MAX_INT4) throw new NotFoundError(entity, text);
  return id;
}

/** `?limit=` and `?beforeId=` on list routes. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  beforeId: z.coerce.number().int().min(1).max(MAX_INT4).optional(),
});

/** Trims, treats "" as absent. */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((v) => (v === '' ? undefined : v));

/** Required text, trimmed. */
export const requiredText = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/**
 * Up to 10 http(s) photo URLs, stored as RFC 3986 URLs (characters Discord's
 * API refuses, such as `|` or a bare `%`, percent-encoded; see `toHttpUri`).
 */
export const PhotoUrls = z
  .array(httpUrlSchema(2048))
  .max(10, 'at most 10 photos');

/** A positive int4 id in a body; digit strings (from HTML forms) are accepted too. */
export const IdSchema = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : v),
  z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') })
    .int('must be a whole number')
    .min(1, 'must be a positive id')
    .max(MAX_INT4, 'is too large'),
);
