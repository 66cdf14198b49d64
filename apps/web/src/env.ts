/**
 * The web app's environment, parsed once by main.ts. Cross-field rules live
 * here so a bad combination stops the process at start with a clear message.
 */
import { BaseEnv, DEFAULT_KEY_PREFIX, generateDevToken, PortSchema, QueuePrefixSchema, z } from '@flipfix/config';

/** Minimum admin token length: long enough that guessing through the rate limit is hopeless. */
export const ADMIN_TOKEN_MIN_LENGTH = 16;

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * `TRUST_PROXY`: `true`/`false`, a hop count, or Express's list of trusted
 * addresses ("loopback", "10.0.0.0/8"). Needed behind a TLS-terminating proxy
 * so `req.secure` (secure cookies) and `req.ip` (login rate limit) are right.
 */
const trustProxy = z.string().transform((v): boolean | number | string => {
  const lower = v.trim().toLowerCase();
  if (lower === 'true' || lower === 'yes') return true;
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
}).superRefine((env, ctx) => {
  if (env.NODE_ENV === 'production' && env.ADMIN_TOKEN === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['ADMIN_TOKEN'],
      message: `is required in production (at least ${ADMIN_TOKEN_MIN_LENGTH} characters)`,
    });
  }
});

export type WebEnv = z.infer<typeof WebEnv>;

/** The admin token to use and whether it was generated (so the entry point prints it once). */
export function resolveAdminToken(env: WebEnv): { token: string; generated: boolean } {
  if (env.ADMIN_TOKEN !== undefined) return { token: env.ADMIN_TOKEN, generated: false };
  return { token: generateDevToken(), generated: true };
}
