import { BaseEnv, DEFAULT_KEY_PREFIX, QueuePrefixSchema, SourceEnv, z } from '@flipfix/config';

/** The worker's environment (all optional in development). */
export const WorkerEnv = BaseEnv.extend({
  /** Bot deliveries processed at once per process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(50),
  /** Attempts per delivery before it is marked failed. */
  DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** First retry delay in ms; doubles each attempt, with jitter. */
  DELIVERY_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(28_000),
  /**
   * REST clients the worker spreads new posts over: one client sends a
   * channel's requests one at a time, several keep several in flight.
   */
  DISCORD_REST_CLIENTS: z.coerce.number().int().min(1).max(64).default(8),
  /** HTTP timeout for one Discord request. */
  DISCORD_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Re-enqueue events and deliveries not finished after this many seconds. */
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(120),
  /** Port for the worker's own /metrics (0 = off). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** How long a job's lock lives: after a crash, its jobs are taken over within about this long. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** How often stalled jobs (of crashed workers) are looked for. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /**
   * `off`: the shared limiter assumes no Discord rate limits (for a simulator
   * started without them, as benchmarks do). Limits learned from response
   * headers and 429s still apply.
   */
  DISCORD_RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  /**
   * How often the relay polls the outbox. A backstop while LISTEN works; the
   * only wake-up behind PgBouncer in transaction mode, where it bounds latency.
   */
  OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Key prefix of every Redis key, hash-tagged: `flipfix` becomes `{flipfix}`. */
  QUEUE_PREFIX: QueuePrefixSchema.default(DEFAULT_KEY_PREFIX),
}).extend(SourceEnv.shape);
export type WorkerEnv = z.infer<typeof WorkerEnv>;
