/**
 * Queue names, the typed job catalog and Redis connections, shared by the
 * worker (which consumes) and the web app (which enqueues redeliveries and
 * shows the job dashboard).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { type JobsOptions, Queue, type QueueOptions } from 'bullmq';
import { z } from 'zod';
import { EventTypeSchema } from '@flipfix/events';

/** Queue names. One queue per stage so each has its own concurrency and dashboard row. */
export const QUEUES = {
  /** Outbox events, published by the relay; consumed by the router. */
  events: 'events',
  /**
   * Bot posts and edits with the bot token: `deliver-many` jobs for new posts
   * (the fast lane) and one `deliver` job per (event, bot channel) for the rest.
   */
  bot: 'bot-deliveries',
  /** One job per (event, webhook endpoint): the legacy path. */
  webhook: 'webhook-deliveries',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Default BullMQ key prefix; tests pass their own so they never share keys. */
export const DEFAULT_PREFIX = 'flipfix';

export const RouteEventJob = z.object({
  eventId: z.uuid(),
  type: EventTypeSchema,
});
export type RouteEventJob = z.infer<typeof RouteEventJob>;

export const DeliveryJob = z.object({
  deliveryId: z.uuid(),
  eventId: z.uuid(),
});
export type DeliveryJob = z.infer<typeof DeliveryJob>;

/** Most deliveries one `deliver-many` job carries. */
export const DELIVERY_BATCH_MAX = 25;

/**
 * Several new bot posts in one job (the fast lane): the relay adds one per
 * routed batch instead of one job per post. The processor posts what it can
 * right away and gives every other delivery in it a `deliver` job of its own.
 */
export const DeliveryBatchJob = z.object({
  deliveryIds: z.array(z.uuid()).min(1).max(DELIVERY_BATCH_MAX),
});
export type DeliveryBatchJob = z.infer<typeof DeliveryBatchJob>;

/** Retry policy for deliveries: exponential backoff with jitter, owned by BullMQ. */
export interface RetryPolicy {
  attempts: number;
  /** First retry delay; each next one doubles (before jitter). */
  backoffMs: number;
  /** 0..1: how much of each delay is randomized, so retries of a failed burst spread out. */
  jitter: number;
}

/** About 8 attempts over about an hour: 28 s × (1 + 2 + … + 64) ≈ 59 min. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, backoffMs: 28_000, jitter: 0.5 };

/**
 * BullMQ options for a job retried under `retry` (exponential backoff with
 * jitter), the first retry after at most `maxFirstDelayMs`.
 */
function retried(retry: RetryPolicy, maxFirstDelayMs = Number.POSITIVE_INFINITY): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: Math.min(retry.backoffMs, maxFirstDelayMs), jitter: retry.jitter },
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { count: 5000 },
  };
}

/** The job catalog: each job's name, payload schema and default options. */
export const JOBS = {
  routeEvent: {
    queue: QUEUES.events,
    name: 'route-event',
    schema: RouteEventJob,
    options: (retry: RetryPolicy): JobsOptions => retried(retry, 5_000),
  },
  deliver: {
    queue: QUEUES.bot,
    name: 'deliver',
    schema: DeliveryJob,
    options: (retry: RetryPolicy): JobsOptions => retried(retry),
  },
  deliverMany: {
    queue: QUEUES.bot,
    name: 'deliver-many',
    schema: DeliveryBatchJob,
    // Only infrastructure errors (Postgres, Redis) fail this job: a failed
    // post is handed to a job of its own with the full retry policy.
    options: (retry: RetryPolicy): JobsOptions => retried(retry, 5_000),
  },
} as const;

export interface ConnectionOptions {
  redisUrl: string;
  /** Key prefix for every queue (tests use a unique one). */
  prefix?: string;
}

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null`
 * (blocking commands); producers fail fast instead of queueing commands forever.
 */
export function createRedis(redisUrl: string, role: 'worker' | 'producer' = 'producer', extra: RedisOptions = {}): Redis {
  return new Redis(redisUrl, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
    ...extra,
  });
}

/**
 * Resolves once Redis at `redisUrl` answers PING; rejects with the client's
 * error otherwise. One connection attempt, no reconnects, no error events
 * left behind: for start-up checks.
 */
export async function probeRedis(redisUrl: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Without retries, connect() rejects with a bare "Connection is closed."; the cause (ECONNREFUSED,
  // ENOTFOUND, WRONGPASS) arrives as an 'error' event just before, so that is what is thrown.
  let cause: unknown = null;
  client.on('error', (err) => {
    cause ??= err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw cause ?? err;
  } finally {
    client.disconnect();
  }
}

/** Opens a BullMQ Queue by catalog name on a shared connection. */
export function openQueue(name: QueueName, connection: Redis, prefix = DEFAULT_PREFIX, extra: Partial<QueueOptions> = {}): Queue {
  return new Queue(name, { connection, prefix, ...extra });
}

/** All queues, for the dashboard and health checks. */
export function openAllQueues(connection: Redis, prefix = DEFAULT_PREFIX): Record<keyof typeof QUEUES, Queue> {
  return {
    events: openQueue(QUEUES.events, connection, prefix),
    bot: openQueue(QUEUES.bot, connection, prefix),
    webhook: openQueue(QUEUES.webhook, connection, prefix),
  };
}

/**
 * BullMQ refuses integer-looking custom job ids and ":" inside them (it is the
 * key separator), so ids are built here, in one place.
 */
export function deliveryJobId(deliveryId: string): string {
  return `d-${deliveryId}`;
}
/** A `deliver-many` job is named after its first delivery. */
export function deliveryBatchJobId(firstDeliveryId: string): string {
  return `m-${firstDeliveryId}`;
}
export function eventJobId(eventId: string): string {
  return `e-${eventId}`;
}

/**
 * Adds a job unless a live one (waiting, delayed, active) with that id exists.
 * A finished one under the same id is removed first: BullMQ would otherwise
 * ignore the add. Used by the reconciler and by redelivery. Returns whether it added.
 */
export async function ensureJob(queue: Queue, jobId: string, name: string, data: object, opts: JobsOptions): Promise<boolean> {
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children') {
      return false;
    }
    await existing.remove().catch(() => undefined);
  }
  await queue.add(name, data, { ...opts, jobId });
  return true;
}

/**
 * Deletes every Redis key under `prefix:` (queues, rate-limit windows,
 * sessions of one deployment or one test run). Returns how many it deleted.
 */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}
