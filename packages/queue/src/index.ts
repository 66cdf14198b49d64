/**
 * Queue names, the typed job catalog and Redis connections, shared by the
 * worker (which consumes) and the web app (which enqueues redeliveries and
 * shows the job dashboard).
 */
import { type JobsOptions, Queue, type QueueOptions, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { DEFAULT_KEY_PREFIX } from '@flipfix/config';
import type { RedisConnection } from './connection';

export * from './connection';

/** Queue names. One queue per stage so each has its own concurrency and dashboard row. */
export const QUEUES = {
  /**
   * Bot posts and edits with the bot token: `deliver` jobs of 1..N ledger
   * rows (the relay puts each routed batch's new posts in jobs of up to
   * DELIVERY_BATCH_MAX; edits, redeliveries and the reconciler's jobs carry one).
   */
  bot: 'bot-deliveries',
  /** One job per (event, webhook endpoint): the legacy path. */
  webhook: 'webhook-deliveries',
  /** One delayed flush job per digest key (packages/bot-features). */
  digests: 'digests',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Default key prefix of BullMQ and every other key, hash-tagged (`{flipfix}`)
 * so that Redis Cluster keeps each script's keys in one slot; tests pass
 * their own so they never share keys.
 */
export const DEFAULT_PREFIX = DEFAULT_KEY_PREFIX;

/** Most new posts the relay puts in one bot `deliver` job. */
export const DELIVERY_BATCH_MAX = 25;
/**
 * Most rows a bot `deliver` job may carry: a job keeps the rows still open
 * after a run, which can include flood batch members it released.
 */
export const DELIVERY_JOB_MAX = 100;

/**
 * A bot delivery job: 1..N ledger rows. The processor posts what it can;
 * whatever must wait (a rate limit, a backoff) stays in this job, which is
 * updated to the rows still open and moved to delayed or retried: a post
 * waits in its job and never crosses the queue twice.
 */
export const BotDeliveryJob = z.object({
  deliveryIds: z.array(z.uuid()).min(1).max(DELIVERY_JOB_MAX),
  /** The rows had to wait for their channel: when their turn comes they lead flood batches. */
  backlog: z.boolean().optional(),
});
export type BotDeliveryJob = z.infer<typeof BotDeliveryJob>;

/** A webhook delivery job: one ledger row. */
export const WebhookDeliveryJob = z.object({
  deliveryId: z.uuid(),
});
export type WebhookDeliveryJob = z.infer<typeof WebhookDeliveryJob>;

/** A digest flush job: the digest key (channel + actor) whose held posts to send. */
export const DigestFlushJob = z.object({
  key: z.string().min(1),
});
export type DigestFlushJob = z.infer<typeof DigestFlushJob>;

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

/** BullMQ options for a job retried under `retry` (exponential backoff with jitter). */
function retried(retry: RetryPolicy): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: retry.jitter },
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { count: 5000 },
  };
}

/** One entry of the job catalog. */
export interface JobSpec<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  name: string;
  schema: S;
  options: (retry: RetryPolicy) => JobsOptions;
}

/** The job catalog: each job's queue, name, payload schema and default options. The only way jobs are added and read. */
export const JOBS = {
  deliverBot: { queue: QUEUES.bot, name: 'deliver', schema: BotDeliveryJob, options: retried },
  deliverWebhook: { queue: QUEUES.webhook, name: 'deliver', schema: WebhookDeliveryJob, options: retried },
  flushDigest: {
    queue: QUEUES.digests,
    name: 'flush-digest',
    schema: DigestFlushJob,
    options: (retry: RetryPolicy): JobsOptions => ({ ...retried(retry), removeOnComplete: true, removeOnFail: { count: 1000 } }),
  },
} as const satisfies Record<string, JobSpec>;

/** One job to add: its payload, its id, and optionally a delay. */
export interface JobToAdd<S extends z.ZodType> {
  data: z.input<S>;
  jobId: string;
  delayMs?: number | undefined;
}

/**
 * The one way to add jobs: validates each payload against the catalog,
 * applies the catalog's options under `retry`, and adds them in one round
 * trip. With `ifAbsent`, a job whose id is live (waiting, delayed, active)
 * is left alone and a finished one is replaced (see {@link ensureJob}).
 * Returns how many were added.
 */
export async function enqueue<S extends z.ZodType>(
  queue: Queue,
  spec: JobSpec<S>,
  jobs: readonly JobToAdd<S>[],
  options: { retry: RetryPolicy; ifAbsent?: boolean },
): Promise<number> {
  if (queue.name !== spec.queue) throw new Error(`job ${spec.name} belongs on ${spec.queue}, not ${queue.name}`);
  const items = jobs.map((j) => ({
    name: spec.name,
    data: spec.schema.parse(j.data) as object,
    opts: { ...spec.options(options.retry), jobId: j.jobId, ...(j.delayMs && j.delayMs > 0 ? { delay: Math.ceil(j.delayMs) } : {}) },
  }));
  if (items.length === 0) return 0;
  if (!options.ifAbsent) {
    await queue.addBulk(items);
    return items.length;
  }
  let added = 0;
  for (const item of items) if (await ensureJob(queue, item.opts.jobId, item.name, item.data, item.opts)) added++;
  return added;
}

/** A job's payload as the catalog declares it, or an UnrecoverableError (a bad payload never succeeds on retry). */
export function parseJob<S extends z.ZodType>(spec: JobSpec<S>, job: { name: string; data: unknown }): z.output<S> {
  const parsed = spec.schema.safeParse(job.data);
  if (job.name !== spec.name || !parsed.success) {
    throw new UnrecoverableError(`invalid ${spec.name} job payload${parsed.success ? `: unexpected job name ${job.name}` : `: ${parsed.error.message}`}`);
  }
  return parsed.data;
}

/** Opens a BullMQ Queue by catalog name on a shared connection. */
export function openQueue(name: QueueName, connection: RedisConnection, prefix = DEFAULT_PREFIX, extra: Partial<QueueOptions> = {}): Queue {
  return new Queue(name, { connection, prefix, ...extra });
}

/** All queues, for the dashboard and health checks. */
export function openAllQueues(connection: RedisConnection, prefix = DEFAULT_PREFIX): Record<keyof typeof QUEUES, Queue> {
  return {
    bot: openQueue(QUEUES.bot, connection, prefix),
    webhook: openQueue(QUEUES.webhook, connection, prefix),
    digests: openQueue(QUEUES.digests, connection, prefix),
  };
}

/**
 * BullMQ refuses integer-looking custom job ids and ":" inside them (it is the
 * key separator), so ids are built here, in one place.
 */
export function deliveryJobId(deliveryId: string): string {
  return `d-${deliveryId}`;
}
/** A bot job of several deliveries is named after its first one. */
export function deliveryBatchJobId(firstDeliveryId: string): string {
  return `m-${firstDeliveryId}`;
}

/**
 * Adds a job unless a live one (waiting, delayed, active) with that id exists.
 * A finished one under the same id is removed first: BullMQ would otherwise
 * ignore the add. Returns whether it added.
 */
async function ensureJob(queue: Queue, jobId: string, name: string, data: object, opts: JobsOptions): Promise<boolean> {
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
