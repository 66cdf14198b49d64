/**
 * Web entry point: parses the environment once, checks that Postgres and
 * Redis answer, connects the queues, serves the app and stops cleanly on
 * SIGINT/SIGTERM. A bad variable or an unreachable service ends it with one
 * line saying what to do, not a stack trace.
 */
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRedis, type LoadedEnv, loadEnv, SIM_DEFAULTS, startupProblem, waitForCoreServices } from '@flipfix/config';
import { createDb, probePostgres } from '@flipfix/db';
import { sourceFor } from '@flipfix/sources';
import { createDiscordRest } from '@flipfix/discord';
import { createLogger, shouldColorize } from '@flipfix/logger';
import { createRedis, openAllQueues, probeRedis } from '@flipfix/queue';
import { createApp } from './app';
import { resolveAdminToken, WebEnv } from './env';

/** The development admin token file `npm start` shares (repository root, git-ignored). */
const DEV_TOKEN_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.admin-token');

let loaded: LoadedEnv<WebEnv>;
try {
  loaded = loadEnv(WebEnv);
} catch (err) {
  process.stderr.write(`web: ${startupProblem(err)}\n`);
  process.exit(1);
}
const { env, runtime: { discord, baseUrl, redis: redisTopology } } = loaded;
const admin = resolveAdminToken(env, env.NODE_ENV === 'development' ? DEV_TOKEN_FILE : undefined);
const log = createLogger({
  name: 'web',
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === 'development',
  colorize: shouldColorize(process.stdout, process.env),
  secrets: [discord.botToken, admin.token],
});

if (admin.generated) {
  // Printed on purpose, and only for a development token.
  process.stdout.write(`\n  Admin token: ${admin.token}  (set ADMIN_TOKEN to choose one)\n  Console: ${baseUrl}/admin\n\n`);
}

try {
  await waitForCoreServices(env, { postgres: probePostgres, redis: probeRedis }, (line) => log.warn(line));
} catch (err) {
  log.fatal(startupProblem(err));
  process.exit(1);
}

const prefix = env.QUEUE_PREFIX;
const source = sourceFor(env);
const db = createDb({ databaseUrl: env.DATABASE_URL, max: 10, schema: source.schema, onError: (err) => log.warn({ err }, 'postgres pool error') });
const redis = createRedis(redisTopology, 'producer');
redis.on('error', (err) => log.warn({ err }, 'redis error'));
const queues = openAllQueues(redis, prefix);
const discordRest = createDiscordRest({ token: discord.botToken, apiUrl: discord.apiUrl, timeoutMs: 5000 });

const app = createApp({
  db,
  redis,
  queues,
  log,
  discordRest,
  discordToken: discord.botToken,
  // The domain API, record pages and the buttons' interactions act on our own tables: the built-in source only.
  domain: source.name === 'builtin',
  ...(source.name === 'builtin' ? { interactions: { publicKey: discord.publicKey, discordApiUrl: discord.apiUrl } } : {}),
  config: {
    adminToken: admin.token,
    baseUrl,
    defaultChannelId: discord.channelId,
    guildId: discord.simulated ? SIM_DEFAULTS.guildId : undefined,
    simulatorUrl: discord.simulated ? discord.apiUrl.replace(/\/api\/?$/, '') : undefined,
    keyPrefix: prefix,
    trustProxy: env.TRUST_PROXY,
    secureCookies: env.COOKIE_SECURE,
    // The simulator's webhook URLs are not on discord.com; against the real Discord only discord.com's are accepted.
    allowDevelopmentWebhookUrls: discord.simulated,
    // Another app's records are on its pages.
    ...(source.name === 'builtin' ? {} : { recordUrl: source.records(db, baseUrl).recordUrl }),
  },
});

// Not app.listen: Express 5 calls its callback on a failed listen too, which
// would log "web listening" for a port that is taken.
const server = createServer(app);
server.once('listening', () => {
  log.info({ port: env.PORT, discord: discord.simulated ? 'simulator' : 'discord', redis: describeRedis(redisTopology) }, 'web listening');
});
server.listen(env.PORT);
server.once('error', (err: NodeJS.ErrnoException) => {
  // Most often another process on the port: say so in one line instead of an unhandled 'error' stack.
  const why = err.code === 'EADDRINUSE' ? `port ${env.PORT} is in use; stop the other process or set PORT` : startupProblem(err);
  log.fatal(`web could not listen: ${why}`);
  process.exit(1);
});

let stopping: Promise<void> | null = null;
const stop = (signal: string): Promise<void> => {
  stopping ??= (async () => {
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.warn('shutdown deadline passed; forcing');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await redis.quit().catch(() => undefined);
    await db.close();
    clearTimeout(deadline);
    log.info('web stopped');
    process.exit(0);
  })();
  return stopping;
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
