/**
 * Composes the worker process: outbox relay, router, bot delivery, webhook
 * delivery (legacy path) and reconciler, on one Postgres pool and one Redis.
 */
import { type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { RedisConnection as Redis } from '@flipfix/queue';
import { createDb, type Db } from '@flipfix/db';
import { createDiscordRestPool, onRateLimitHeaders } from '@flipfix/discord';
import type { Logger } from '@flipfix/logger';
import { createRedis, type RedisTarget, DEFAULT_PREFIX, DEFAULT_RETRY, deliveryJobId, ensureJob, JOBS, QUEUES, RouteEventJob, type RetryPolicy, openQueue } from '@flipfix/queue';
import { createBotProcessor, type BotDeliveryDeps } from './bot-delivery';
import { createFastLane, type HandOff } from './fast-lane';
import { Metrics } from './metrics';
import { type WindowLimit, SharedRateLimiter } from './rate-limiter';
import { Reconciler } from './reconciler';
import { OutboxRelay } from './relay';
import { enqueueDeliveries, routeBatch, routeEvent } from './router';
import { SettingsCache } from './settings-cache';

export interface WorkerOptions {
  databaseUrl: string;
  /** Standalone URL, Sentinel set or Cluster (see `resolveRedis`). */
  redis: RedisTarget;
  /** BullMQ and rate-limiter key prefix. */
  prefix?: string;
  baseUrl: string;
  discord: { token: string; apiUrl: string; channelId: string; timeoutMs?: number };
  log: Logger;
  concurrency?: number;
  /** REST clients the fast lane spreads posts over (default 8). */
  restClients?: number;
  retry?: RetryPolicy;
  /** Shared rate limits; `null` turns one off (benchmarks against a simulator without limits). */
  rateLimits?: { global?: WindowLimit | null; defaultChannel?: WindowLimit | null };
  /** Flood batching of a channel's backlog (default on). */
  batching?: boolean;
  reconcileAfterMs?: number;
  reconcileIntervalMs?: number;
  /** BullMQ lock duration: how soon a crashed worker's active jobs are taken over. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  relayPollMs?: number;
  metrics?: Metrics;
  /** Hooks for the rich features and the legacy webhook path. */
  extend?: (ctx: WorkerContext) => WorkerExtension | Promise<WorkerExtension>;
}

export interface WorkerContext {
  db: Db;
  redis: Redis;
  settings: SettingsCache;
  limiter: SharedRateLimiter;
  metrics: Metrics;
  log: Logger;
  prefix: string;
  retry: RetryPolicy;
  options: WorkerOptions;
}

export interface WorkerExtension {
  afterPost?: BotDeliveryDeps['afterPost'];
  resolveChannel?: BotDeliveryDeps['resolveChannel'];
  webhookEndpointsFor?: (type: import('@flipfix/events').EventType) => Promise<string[]>;
  /** Digest: holds a bot post instead of enqueueing it (see RouterDeps). */
  holdForDigest?: import('./router').RouterDeps['holdForDigest'];
  /** Extra BullMQ workers (the webhook queue's), closed with the rest. */
  workers?: Worker[];
  close?: () => Promise<void>;
}

export interface RunningWorker {
  db: Db;
  metrics: Metrics;
  relay: OutboxRelay;
  reconciler: Reconciler;
  settings: SettingsCache;
  queues: { events: Queue; bot: Queue; webhook: Queue };
  /** Idempotent; waits for active jobs, bounded by `deadlineMs`. */
  close(deadlineMs?: number): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const retry = o.retry ?? DEFAULT_RETRY;
  const log = o.log;
  const metrics = o.metrics ?? new Metrics();
  const db = createDb({ databaseUrl: o.databaseUrl, max: 10 });
  const redis = createRedis(o.redis, 'worker');
  const queues = {
    events: openQueue(QUEUES.events, redis, prefix),
    bot: openQueue(QUEUES.bot, redis, prefix),
    webhook: openQueue(QUEUES.webhook, redis, prefix),
  };
  const limiter = new SharedRateLimiter({
    redis,
    keyPrefix: prefix,
    ...(o.rateLimits?.global !== undefined ? { global: o.rateLimits.global } : {}),
    ...(o.rateLimits?.defaultChannel !== undefined ? { defaultChannel: o.rateLimits.defaultChannel } : {}),
  });
  const settings = new SettingsCache({ prisma: db.prisma, pool: db.pool, log });
  await settings.start();

  // Several clients, so that posts to one channel are not sent strictly one
  // after another (see createDiscordRestPool); the first one serves the
  // single path (edits, flood batches, retries).
  const posters = createDiscordRestPool(
    { token: o.discord.token, apiUrl: o.discord.apiUrl, timeoutMs: o.discord.timeoutMs ?? 15_000 },
    o.restClients ?? 8,
  );
  const rest = posters[0]!;
  for (const client of posters) {
    onRateLimitHeaders(client, (info) => {
      const scope = limiterScope(info.route, info.majorParameter);
      if (scope && info.limit !== null && info.resetAfterMs !== null) {
        const observed = { limit: info.limit, remaining: info.remaining ?? 0, resetAfterMs: info.resetAfterMs };
        void limiter.observe(scope, observed).catch(() => undefined);
      }
    });
  }

  const ctx: WorkerContext = { db, redis, settings, limiter, metrics, log, prefix, retry, options: o };
  const ext = o.extend ? await o.extend(ctx) : {};

  const workerOpts = {
    connection: redis,
    prefix,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 30_000,
    // A job interrupted by a crash is taken over, not failed.
    maxStalledCount: 10,
  };

  const routerWorker = new Worker(
    QUEUES.events,
    async (job) => {
      const parsed = RouteEventJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('invalid route-event payload');
      const r = await routeEvent(
        {
          prisma: db.prisma,
          settings: () => settings.current,
          defaultChannelId: o.discord.channelId,
          botQueue: queues.bot,
          webhookQueue: queues.webhook,
          webhookEndpointsFor: ext.webhookEndpointsFor ?? (async () => []),
          ...(ext.holdForDigest ? { holdForDigest: ext.holdForDigest } : {}),
          retry,
        },
        parsed.data.eventId,
      );
      metrics.eventsRouted.inc({ type: parsed.data.type });
      return r;
    },
    { ...workerOpts, concurrency: 20 },
  );

  // Gives deliveries `deliver` jobs of their own (from the fast lane, or
  // released from a flood batch they did not fit in).
  const handOff = async (items: readonly HandOff[]) => {
    await Promise.all(
      items.map((h) =>
        ensureJob(
          queues.bot,
          deliveryJobId(h.deliveryId),
          JOBS.deliver.name,
          { deliveryId: h.deliveryId, eventId: h.eventId, ...(h.backlog ? { backlog: true } : {}) },
          {
            ...JOBS.deliver.options(retry),
            ...(h.delayMs ? { delay: Math.ceil(h.delayMs) } : {}),
            ...(h.attempts ? { attempts: h.attempts } : {}),
          },
        ),
      ),
    );
  };
  const botDeps = {
    prisma: db.prisma,
    rest,
    botToken: o.discord.token,
    batching: o.batching ?? true,
    limiter,
    settings: () => settings.current,
    baseUrl: o.baseUrl,
    log,
    metrics,
    ...(ext.afterPost ? { afterPost: ext.afterPost } : {}),
    ...(ext.resolveChannel ? { resolveChannel: ext.resolveChannel } : {}),
  } satisfies BotDeliveryDeps;
  const single = createBotProcessor({
    ...botDeps,
    requeue: async (ids) => {
      const rows = await db.prisma.delivery.findMany({ where: { id: { in: [...ids] } }, select: { id: true, eventId: true } });
      await handOff(rows.map((d) => ({ deliveryId: d.id, eventId: d.eventId })));
    },
  });
  const fastLane = createFastLane({ ...botDeps, pool: db.pool, retry, handOff, posters });
  const botWorker = new Worker(QUEUES.bot, (job, token) => (job.name === JOBS.deliverMany.name ? fastLane(job) : single(job, token)), {
    ...workerOpts,
    concurrency: o.concurrency ?? 50,
  });

  for (const w of [routerWorker, botWorker, ...(ext.workers ?? [])]) {
    w.on('error', (err) => log.error({ err, queue: w.name }, 'queue worker error'));
  }

  // The relay routes each claimed batch in its own transaction (one INSERT for
  // all ledger rows); the events queue and its router serve re-routing by the
  // reconciler.
  const routeDeps = {
    prisma: db.prisma,
    settings: () => settings.current,
    defaultChannelId: o.discord.channelId,
    webhookEndpointsFor: ext.webhookEndpointsFor ?? (async () => []),
    ...(ext.holdForDigest ? { holdForDigest: ext.holdForDigest } : {}),
  };
  const relay = new OutboxRelay({
    pool: db.pool,
    log,
    pollMs: o.relayPollMs ?? 1000,
    route: async (client, events) => {
      const routed = await routeBatch(client, routeDeps, events);
      for (const e of events) metrics.eventsRouted.inc({ type: e.type });
      return routed;
    },
    enqueue: (deliveries) => enqueueDeliveries({ botQueue: queues.bot, webhookQueue: queues.webhook, retry }, deliveries),
  });
  await relay.start();
  const reconciler = new Reconciler({
    prisma: db.prisma,
    eventsQueue: queues.events,
    botQueue: queues.bot,
    webhookQueue: queues.webhook,
    retry,
    log,
    staleAfterMs: o.reconcileAfterMs ?? 120_000,
    ...(o.reconcileIntervalMs ? { intervalMs: o.reconcileIntervalMs } : {}),
  });
  reconciler.start();
  log.info({ prefix, concurrency: o.concurrency ?? 50 }, 'worker started');

  let closing: Promise<void> | null = null;
  const close = (deadlineMs = 10_000): Promise<void> => {
    closing ??= (async () => {
      const all = async () => {
        await relay.close();
        await reconciler.close();
        await Promise.all([routerWorker.close(), botWorker.close(), ...(ext.workers ?? []).map((w) => w.close())]);
        await ext.close?.();
        await settings.close();
        await Promise.all(Object.values(queues).map((q) => q.close()));
        await redis.quit().catch(() => undefined);
        await db.close();
      };
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deadlineMs);
        timer.unref();
      });
      const result = await Promise.race([all().then(() => 'ok' as const), deadline]);
      clearTimeout(timer);
      if (result === 'timeout') {
        log.warn({ deadlineMs }, 'shutdown deadline passed; forcing');
        redis.disconnect();
      }
      log.info('worker stopped');
    })();
    return closing;
  };

  return { db, metrics, relay, reconciler, settings, queues, close };
}

/** The limiter scope a Discord route's bucket maps to (see SharedRateLimiter). */
export function limiterScope(route: string, majorParameter: string): string | null {
  if (route === '/channels/:id/messages') return majorParameter;
  if (route === '/channels/:id/messages/:id') return `edit:${majorParameter}`;
  if (route.startsWith('/webhooks/:id')) return `webhook:${majorParameter}`;
  return null;
}
