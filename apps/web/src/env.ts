/**
 * The web app's environment, parsed once by main.ts. Cross-field rules live
 * here so a bad combination stops the process at start with a clear message.
 */
import { BaseEnv, DEFAULT_KEY_PREFIX, generateDevToken, loadDevToken, PortSchema, QueuePrefixSchema, SourceEnv, z } from '@flipfix/config';

/** Minimum admin token length in development. */
export const ADMIN_TOKEN_MIN_LENGTH = 16;
/**
 * Minimum admin token length in production: long enough that guessing is
 * hopeless whatever the rate limit lets through (a correct token is never
 * refused, so the limit alone cannot be what stops a guesser).
 */
export const PRODUCTION_ADMIN_TOKEN_MIN_LENGTH = 32;

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * `TRUST_PROXY`: `true`/`false`, a hop count, or Express's list of trusted
 * addresses ("loopback", "10.0.0.0/8"). Needed behind a TLS-terminating proxy
 * so `req.secure` (secure cookies) and `req.ip` (the admin rate limit) are
 * right. `true` means one proxy (a hop count of 1), not Express's "trust
 * every hop": then `req.ip` would be the left-most `X-Forwarded-For` entry,
 * which any client writes, and a client changing it would never be limited.
 */
const trustProxy = z.string().transform((v): boolean | number | string => {
  const lower = v.trim().toLowerCase();
  if (lower === 'true' || lower === 'yes') return 1;
  if (lower === 'false' || lower === 'no') return false;
  if (/^\d+$/.test(lower)) return Number(lower);
  return v.trim();
});

/** The web app's variables on top of {@link BaseEnv}. */
export const WebEnv = BaseEnv.extend({
  PORT: PortSchema.default(3000),
  ADMIN_TOKEN: z
    .string()
    .min(ADMIN_TOKEN_MIN_LENGTH, `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters`)
    .optional(),
  /** Reserved for signed cookies; sessions are random ids in Redis, so it is optional. */
  SESSION_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TRUST_PROXY: trustProxy.default(false),
  /** BullMQ and Redis key prefix; must match the worker's. */
  QUEUE_PREFIX: QueuePrefixSchema.default(DEFAULT_KEY_PREFIX),
  /** Marks session cookies `Secure` even when the request did not arrive over TLS. */
  COOKIE_SECURE: booleanish.optional(),
})
  .extend(SourceEnv.shape)
  .superRefine((env, ctx) => {
  if (env.NODE_ENV !== 'production') return;
  if (env.ADMIN_TOKEN === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['ADMIN_TOKEN'],
      message: `is required in production (at least ${PRODUCTION_ADMIN_TOKEN_MIN_LENGTH} random characters, e.g. openssl rand -base64 32)`,
    });
  } else if (env.ADMIN_TOKEN.length < PRODUCTION_ADMIN_TOKEN_MIN_LENGTH) {
    ctx.addIssue({
      code: 'custom',
      path: ['ADMIN_TOKEN'],
      message: `must be at least ${PRODUCTION_ADMIN_TOKEN_MIN_LENGTH} characters in production`,
    });
  }
});

export type WebEnv = z.infer<typeof WebEnv>;

/**
 * The admin token to use and whether it was made here (so the entry point
 * prints it). Without ADMIN_TOKEN (development only): the token kept in
 * `devTokenFile`, created on first use, so it survives restarts; without a
 * file, a fresh one.
 */
export function resolveAdminToken(env: WebEnv, devTokenFile?: string): { token: string; generated: boolean } {
  if (env.ADMIN_TOKEN !== undefined) return { token: env.ADMIN_TOKEN, generated: false };
  return { token: devTokenFile === undefined ? generateDevToken() : loadDevToken(devTokenFile), generated: true };
}
