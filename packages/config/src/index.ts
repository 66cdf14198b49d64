/**
 * Environment parsing: each process parses its environment once, with zod,
 * and a bad value stops it at start with a message naming the variable.
 * `resolveRuntime` then applies the rules that fail closed (no simulator
 * default outside simulator mode, required variables in production). Also
 * here: RFC 3986 URLs (`uri.ts`) and start-up checks (`startup.ts`).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { EnvError } from './errors';
import { describeRedis, RedisEnvShape, type RedisTopology, resolveRedis } from './redis';
import { redactUrl, type ServiceCheck, StartupError, waitForServices } from './startup';
import { toHttpUri } from './uri';

export { EnvError };
export * from './redis';
export { describeConnectError, redactUrl, StartupError, type ServiceCheck, type WaitForServicesOptions, waitForServices } from './startup';
export { type HttpUriOptions, toHttpUri } from './uri';

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

/** Links in posts when APP_BASE_URL is unset (development only; production requires it). */
export const DEFAULT_APP_BASE_URL = 'http://localhost:3000';

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord snowflake (17-20 digits)');

/**
 * An absolute http(s) URL of at most `maxLength` characters, normalized to
 * RFC 3986 by {@link toHttpUri} (what Discord accepts); refused when it
 * cannot be.
 */
export function httpUrlSchema(maxLength = 2048) {
  return z.string({ error: 'must be an http(s) URL' }).transform((value, ctx) => {
    const uri = toHttpUri(value, { maxLength: Number.POSITIVE_INFINITY });
    if (uri === null) {
      ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL without credentials' });
      return z.NEVER;
    }
    if (uri.length > maxLength) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxLength} characters` });
      return z.NEVER;
    }
    return uri;
  });
}
const httpUrl = httpUrlSchema();
/** A site base: an http(s) URL without query or fragment, trailing slashes removed. */
const baseUrl = httpUrl.transform((uri, ctx) => {
  if (/[?#]/.test(uri)) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
    return z.NEVER;
  }
  return uri.replace(/\/+$/, '');
});
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
  /** Absolute base for links in posts; required in production (see {@link resolveRuntime}). */
  APP_BASE_URL: baseUrl.optional(),
  DISCORD_BOT_TOKEN: z.string().min(1).optional(),
  DISCORD_API_URL: httpUrl.optional(),
  DISCORD_CHANNEL_ID: snowflake.optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters (an Ed25519 public key)')
    .optional(),
  DISCORD_SIM_PORT: port.default(SIM_DEFAULTS.port),
  /** Tries to reach Postgres and Redis at start before giving up. */
  STARTUP_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  /** Wait before the second try; doubles after each (at most 8 times this). */
  STARTUP_BACKOFF_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
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

/** True for a URL on this machine (127.0.0.1, localhost, ::1): a simulator, never the real Discord. */
function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** What the environment resolves to, once the fail-closed rules hold. */
export interface Runtime {
  discord: DiscordTarget;
  /** APP_BASE_URL, or {@link DEFAULT_APP_BASE_URL} outside production. */
  baseUrl: string;
  /** Which Redis (see {@link resolveRedis}). */
  redis: RedisTopology;
}

/**
 * Resolves how the apps reach Discord and where links point, failing closed.
 * Simulator mode (no bot token, or an API URL on this machine) uses the
 * simulator's defaults. Outside it no simulator default is ever used:
 * DISCORD_PUBLIC_KEY (else interactions would be checked against the
 * simulator's key, whose private half is in this repository) and
 * DISCORD_CHANNEL_ID are required. In production APP_BASE_URL is required
 * too (else posts link to localhost). Throws an {@link EnvError} naming every
 * missing variable.
 */
export function resolveRuntime(env: BaseEnv): Runtime {
  const redis = resolveRedis(env);
  const token = env.DISCORD_BOT_TOKEN;
  const simulated = token === undefined || (env.DISCORD_API_URL !== undefined && isLoopback(env.DISCORD_API_URL));
  const problems: string[] = [];
  if (!simulated) {
    if (env.DISCORD_PUBLIC_KEY === undefined) {
      problems.push('DISCORD_PUBLIC_KEY: is required with DISCORD_BOT_TOKEN (your application\'s public key, from the Discord developer portal)');
    }
    if (env.DISCORD_CHANNEL_ID === undefined) problems.push('DISCORD_CHANNEL_ID: is required with DISCORD_BOT_TOKEN (the channel to post to)');
  }
  if (env.NODE_ENV === 'production' && env.APP_BASE_URL === undefined) {
    problems.push('APP_BASE_URL: is required in production (the address people open, e.g. https://flipfix.example.org)');
  }
  if (problems.length > 0) throw new EnvError(`Invalid environment:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const apiUrl = env.DISCORD_API_URL ?? (simulated ? `http://127.0.0.1:${env.DISCORD_SIM_PORT}/api` : 'https://discord.com/api');
  return {
    discord: {
      botToken: token ?? SIM_DEFAULTS.botToken,
      apiUrl,
      channelId: env.DISCORD_CHANNEL_ID ?? SIM_DEFAULTS.channelId,
      publicKey: env.DISCORD_PUBLIC_KEY ?? SIM_DEFAULTS.publicKey,
      simulated,
    },
    baseUrl: env.APP_BASE_URL ?? DEFAULT_APP_BASE_URL,
    redis,
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

/** An entry point's environment, parsed and resolved by {@link loadEnv}. */
export interface LoadedEnv<E extends BaseEnv> {
  env: E;
  runtime: Runtime;
}

/**
 * Parses `source` with `schema` and resolves it with {@link resolveRuntime}:
 * what every entry point does first. Throws an {@link EnvError} naming every
 * bad or missing variable.
 */
export function loadEnv<S extends z.ZodType<BaseEnv>>(schema: S, source: NodeJS.ProcessEnv = process.env): LoadedEnv<z.infer<S>> {
  const env = parseEnv(schema, source);
  return { env, runtime: resolveRuntime(env) };
}

/**
 * Waits until Postgres and Redis answer, with the probes their client
 * packages provide (`probePostgres`, `probeRedis`) and the environment's
 * STARTUP_ATTEMPTS / STARTUP_BACKOFF_MS; see {@link waitForServices}.
 */
export function waitForCoreServices(
  env: BaseEnv,
  probes: { postgres: (url: string) => Promise<void>; redis: (topology: RedisTopology) => Promise<void> },
  report: (line: string) => void,
): Promise<void> {
  const redis = resolveRedis(env);
  const checks: ServiceCheck[] = [
    { service: 'Postgres', address: redactUrl(env.DATABASE_URL), hint: 'start Postgres or set DATABASE_URL', probe: () => probes.postgres(env.DATABASE_URL) },
    {
      service: 'Redis',
      address: redis.kind === 'standalone' ? redactUrl(redis.url) : describeRedis(redis),
      hint:
        redis.kind === 'standalone'
          ? 'start Redis or set REDIS_URL'
          : redis.kind === 'sentinel'
            ? 'check REDIS_SENTINELS and REDIS_SENTINEL_NAME (the Sentinels must know a primary by that name)'
            : 'check REDIS_CLUSTER_NODES (the cluster must be up, every slot covered)',
      probe: () => probes.redis(redis),
    },
  ];
  return waitForServices(checks, { attempts: env.STARTUP_ATTEMPTS, backoffMs: env.STARTUP_BACKOFF_MS, report });
}

/**
 * What an entry point prints when it cannot start: the message of an
 * {@link EnvError} or {@link StartupError} (it already says what to do),
 * else the first line of the error, never a stack.
 */
export function startupProblem(err: unknown): string {
  if (err instanceof EnvError || err instanceof StartupError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `could not start: ${message.split('\n')[0] ?? ''}`;
}

/** A random admin token for development (32 characters), printed at start. */
export function generateDevToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The development admin token kept in `file` (git-ignored), created on first
 * use, so a token saved in a browser or a script keeps working across
 * restarts. A missing, unreadable or too short file gets a new token.
 */
export function loadDevToken(file: string): string {
  try {
    const saved = readFileSync(file, 'utf8').trim();
    if (/^[\w-]{32,200}$/.test(saved)) return saved;
  } catch {
    // No token yet: make one below.
  }
  const token = generateDevToken();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
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

/**
 * Which app database events come from (`SOURCE`): `builtin` (our own tables)
 * or `flipfix` (an existing Flipfix database, our tables in a schema of their
 * own). Kept apart from {@link BaseEnv}; each process that reads records
 * extends its environment with it.
 */
export const SourceEnv = z.object({
  SOURCE: z.enum(['builtin', 'flipfix']).default('builtin'),
  /** Flipfix's MEDIA_URL when it is not `/media/` (an absolute URL when media is served elsewhere). */
  FLIPFIX_MEDIA_URL: z
    .string()
    .regex(/^(\/|https?:\/\/)/, 'must be a path starting with / or an http(s) URL')
    .optional(),
});
export type SourceEnv = z.infer<typeof SourceEnv>;
