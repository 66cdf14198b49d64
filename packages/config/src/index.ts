/**
 * Environment parsing: each process parses its environment once, with zod,
 * and a bad value stops it at start with a message naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { EnvError } from './errors';
import { RedisEnvShape } from './redis';

export { EnvError };
export * from './redis';

/** The simulator's development defaults; the simulator and the apps share them. */
export const SIM_DEFAULTS = {
  port: 4100,
  /** The bot token the simulator accepts out of the box (not a real Discord token). */
  botToken: 'sim-bot-token.flipfix-notify.dev',
  /** Snowflake of the text channel the simulator creates at start. */
  channelId: '1100000000000000001',
  guildId: '1100000000000000000',
  /**
   * Ed25519 test keypair, hex. The simulator signs interactions with the
   * private key; DISCORD_PUBLIC_KEY defaults to the public key. Development only.
   */
  publicKey: '16836bcac0e55e62d042a001aa90cc88f90bfd11dfd05bcacac13f854d1cb0ec',
  privateKeySeed: '8f2b0cfb6a4c4f9c9d1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f',
} as const;

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/flipfix';

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord snowflake (17-20 digits)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const port = z.coerce.number().int().min(0).max(65535);

/** Variables every process shares. */
export const BaseEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .default(DEFAULT_DATABASE_URL),
  // Which Redis: REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME or REDIS_CLUSTER_NODES (see resolveRedis).
  ...RedisEnvShape,
  APP_BASE_URL: httpUrl.default('http://localhost:3000').transform((u) => u.replace(/\/+$/, '')),
  DISCORD_BOT_TOKEN: z.string().min(1).optional(),
  DISCORD_API_URL: httpUrl.optional(),
  DISCORD_CHANNEL_ID: snowflake.optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters (an Ed25519 public key)')
    .optional(),
  DISCORD_SIM_PORT: port.default(SIM_DEFAULTS.port),
});

export type BaseEnv = z.infer<typeof BaseEnv>;

/** How the apps reach Discord, resolved from the environment. */
export interface DiscordTarget {
  /** Token for `Authorization: Bot …`. Never logged, never stored. */
  botToken: string;
  /** REST base passed to @discordjs/rest `api`. */
  apiUrl: string;
  /** Initial default channel until one is set in settings. */
  channelId: string;
  publicKey: string;
  /** True when talking to the local simulator. */
  simulated: boolean;
}

/**
 * With no bot token: the simulator and its defaults. With a token and no
 * API URL: the real Discord.
 */
export function resolveDiscord(env: BaseEnv): DiscordTarget {
  const simulated = env.DISCORD_BOT_TOKEN === undefined || env.DISCORD_API_URL?.includes('127.0.0.1') === true;
  const apiUrl =
    env.DISCORD_API_URL ??
    (env.DISCORD_BOT_TOKEN === undefined ? `http://127.0.0.1:${env.DISCORD_SIM_PORT}/api` : 'https://discord.com/api');
  return {
    botToken: env.DISCORD_BOT_TOKEN ?? SIM_DEFAULTS.botToken,
    apiUrl,
    channelId: env.DISCORD_CHANNEL_ID ?? SIM_DEFAULTS.channelId,
    publicKey: env.DISCORD_PUBLIC_KEY ?? SIM_DEFAULTS.publicKey,
    simulated,
  };
}


/**
 * Parses `source` with `schema`, or throws an {@link EnvError} that names each
 * bad variable and why, e.g. `PORT: Invalid input: expected number`.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings mean "unset" (docker-compose passes `VAR=` for optional ones).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
}

/** A random admin token for development, printed once at start. */
export function generateDevToken(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Zod issues as `{ field: reason }`, first reason per field: the shape of
 * every 400 answer (`{ error: 'invalid_request', message, fields }`). Issue
 * inputs are never copied, so no submitted secret leaks through here.
 */
export function fieldsOf(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    let path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      path = path === '' ? key : `${path}.${key}`;
      message = 'unknown field';
    }
    if (path === '') path = 'body';
    fields[path] ??= message;
  }
  return fields;
}

export { z };
export { snowflake as SnowflakeSchema, httpUrl as HttpUrlSchema, port as PortSchema };
