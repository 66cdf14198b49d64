/**
 * The worker's resources, built once and shared by every processor and
 * extension: the Postgres pool and Prisma, one Redis connection, the queues,
 * the settings cache, the shared rate limiter, the invalid-request brake, the
 * pool of Discord clients and the metrics. It is the `WorkerContext` the
 * extensions receive.
 */
import type { REST } from '@discordjs/rest';
import type { Queue } from 'bullmq';
import { builtinSource, createDb, type Db } from '@flipfix/db';
import { createDiscordRestPool, onRateLimitHeaders } from '@flipfix/discord';
import { countInvalidRequests, InvalidRequestBrake, type WorkerContext } from '@flipfix/engine';
import type { Logger } from '@flipfix/logger';
import { createRedis, DEFAULT_PREFIX, DEFAULT_RETRY, openQueue, QUEUES, type RedisConnection, type RetryPolicy } from '@flipfix/queue';
import { Metrics } from './metrics';
import { SharedRateLimiter, type WindowLimit } from './rate-limiter';
import { SettingsCache } from './settings-cache';
import type { WorkerOptions } from './worker';

/** Every shared resource of one worker process. */
export interface Resources extends WorkerContext {
  options: WorkerOptions;
  queues: { bot: Queue; webhook: Queue };
  limiter: SharedRateLimiter;
  brake: InvalidRequestBrake;
  settings: SettingsCache;
  metrics: Metrics;
  /** REST clients with the bot token; posts are spread over them. */
  posters: REST[];
  /** Closes what `createResources` opened, in reverse order. */
  close(): Promise<void>;
}

/** Builds the resources (and loads the settings once). */
export async function createResources(options: WorkerOptions): Promise<Resources> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const retry: RetryPolicy = options.retry ?? DEFAULT_RETRY;
  const log: Logger = options.log;
  const metrics = options.metrics ?? new Metrics();
  const source = options.source ?? builtinSource;
  const db: Db = createDb({ databaseUrl: options.databaseUrl, max: 10, schema: source.schema });
  const records = source.records(db, options.baseUrl);
  const redis: RedisConnection = createRedis(options.redis, 'worker');
  const queues = { bot: openQueue(QUEUES.bot, redis, prefix), webhook: openQueue(QUEUES.webhook, redis, prefix) };
  const limits = options.rateLimits ?? {};
  const limiter = new SharedRateLimiter({
    redis,
    keyPrefix: prefix,
    ...(limits.global !== undefined ? { global: limits.global as WindowLimit | null } : {}),
    ...(limits.defaultChannel !== undefined ? { defaultChannel: limits.defaultChannel as WindowLimit | null } : {}),
  });
  const brake = new InvalidRequestBrake({ redis, prefix, ...(options.brakeThreshold ? { threshold: options.brakeThreshold } : {}) });
  const settings = new SettingsCache({ prisma: db.prisma, pool: db.pool, log });
  await settings.start();

  const unsubscribe: (() => void)[] = [];
  const watchInvalidRequests = (rest: REST) => {
    const stop = countInvalidRequests(rest, brake, (err) => log.warn({ err }, 'could not count an invalid request'));
    unsubscribe.push(stop);
    return stop;
  };
  // Several clients, so that posts to one channel are not sent strictly one
  // after another (see createDiscordRestPool).
  const posters = createDiscordRestPool(
    { token: options.discord.token, apiUrl: options.discord.apiUrl, timeoutMs: options.discord.timeoutMs ?? 15_000 },
    options.restClients ?? 8,
  );
  for (const client of posters) {
    watchInvalidRequests(client);
    unsubscribe.push(
      onRateLimitHeaders(client, (info) => {
        const scope = limiterScope(info.route, info.majorParameter);
        if (scope && info.limit !== null && info.resetAfterMs !== null) {
          const observed = { limit: info.limit, remaining: info.remaining ?? 0, resetAfterMs: info.resetAfterMs };
          void limiter.observe(scope, observed).catch(() => undefined);
        }
      }),
    );
  }

  return {
    db,
    records,
    redis,
    settings,
    limiter,
    brake,
    metrics,
    log,
    prefix,
    retry,
    options,
    queues,
    posters,
    watchInvalidRequests,
    queueWorkerOptions: {
      connection: redis,
      prefix,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      // A job interrupted by a crash is taken over, not failed.
      maxStalledCount: 10,
    },
    async close() {
      for (const stop of unsubscribe) stop();
      await settings.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await redis.quit().catch(() => undefined);
      await db.close();
    },
  };
}

/** The limiter scope a Discord route's bucket maps to (see SharedRateLimiter). */
export function limiterScope(route: string, majorParameter: string): string | null {
  if (route === '/channels/:id/messages') return majorParameter;
  if (route === '/channels/:id/messages/:id') return `edit:${majorParameter}`;
  if (route.startsWith('/webhooks/:id')) return `webhook:${majorParameter}`;
  return null;
}
