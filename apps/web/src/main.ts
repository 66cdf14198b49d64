/**
 * Web entry point: parses the environment once, connects Postgres, Redis and
 * the queues, serves the app and stops cleanly on SIGINT/SIGTERM.
 */
import { describeRedis, parseEnv, resolveDiscord, resolveRedis, SIM_DEFAULTS } from '@flipfix/config';
import { DIGEST_QUEUE } from '@flipfix/bot-features';
import { Queue } from 'bullmq';
import { createDb } from '@flipfix/db';
import { createDiscordRest } from '@flipfix/discord';
import { createLogger } from '@flipfix/logger';
import { createRedis, openAllQueues } from '@flipfix/queue';
import { createApp } from './app';
import { resolveAdminToken, WebEnv } from './env';

const env = parseEnv(WebEnv);
const discord = resolveDiscord(env);
const admin = resolveAdminToken(env);
const log = createLogger({
  name: 'web',
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === 'development',
  secrets: [discord.botToken, admin.token],
});

if (admin.generated) {
  // Printed on purpose, once, and only for a generated development token.
  process.stdout.write(`\n  Admin token: ${admin.token}  (set ADMIN_TOKEN to choose one)\n  Console: ${env.APP_BASE_URL}/admin\n\n`);
}

const prefix = env.QUEUE_PREFIX;
const db = createDb({ databaseUrl: env.DATABASE_URL, max: 10, onError: (err) => log.warn({ err }, 'postgres pool error') });
const redisTopology = resolveRedis(env);
const redis = createRedis(redisTopology, 'producer');
redis.on('error', (err) => log.warn({ err }, 'redis error'));
const queues = openAllQueues(redis, prefix);
// The digest flush queue lives in bot-features (not the shared catalog); the dashboard shows it too.
const digestQueue = new Queue(DIGEST_QUEUE, { connection: redis, prefix });
const discordRest = createDiscordRest({ token: discord.botToken, apiUrl: discord.apiUrl, timeoutMs: 5000 });

const app = createApp({
  db,
  redis,
  queues,
  log,
  discordRest,
  discordToken: discord.botToken,
  interactions: { publicKey: discord.publicKey, discordApiUrl: discord.apiUrl },
  dashboardQueues: [digestQueue],
  config: {
    adminToken: admin.token,
    baseUrl: env.APP_BASE_URL,
    defaultChannelId: discord.channelId,
    guildId: discord.simulated ? SIM_DEFAULTS.guildId : undefined,
    simulatorUrl: discord.simulated ? discord.apiUrl.replace(/\/api\/?$/, '') : undefined,
    keyPrefix: prefix,
    trustProxy: env.TRUST_PROXY,
    secureCookies: env.COOKIE_SECURE,
    // The simulator's webhook URLs are not on discord.com; against the real Discord only discord.com's are accepted.
    allowDevelopmentWebhookUrls: discord.simulated,
  },
});

const server = app.listen(env.PORT, () => {
  log.info({ port: env.PORT, discord: discord.simulated ? 'simulator' : 'discord', redis: describeRedis(redisTopology) }, 'web listening');
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
    await Promise.all([...Object.values(queues), digestQueue].map((q) => q.close()));
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
