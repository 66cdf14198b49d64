/**
 * Composes the worker process from three parts: the shared resources
 * (resources.ts), the processors built on them (processors.ts: relay and
 * router, the bot delivery path, the reconciler, plus the extensions' own),
 * and one shutdown (shutdown.ts).
 */
import type { Queue } from 'bullmq';
import { builtinSource, type Db, type Source } from '@flipfix/db';
import type { ExtendWorker } from '@flipfix/engine';
import type { Logger } from '@flipfix/logger';
import type { RedisTarget, RetryPolicy } from '@flipfix/queue';
import type { Metrics } from './metrics';
import { startProcessors } from './processors';
import type { WindowLimit } from './rate-limiter';
import type { Reconciler } from './reconciler';
import type { OutboxRelay } from './relay';
import { createResources } from './resources';
import type { SettingsCache } from './settings-cache';
import { shutdownOf } from './shutdown';

export type { AfterPostContext, WorkerContext, WorkerExtension } from '@flipfix/engine';
export { limiterScope } from './resources';

export interface WorkerOptions {
  databaseUrl: string;
  /** Standalone URL, Sentinel set or Cluster (see `resolveRedis`). */
  redis: RedisTarget;
  /** BullMQ and rate-limiter key prefix. */
  prefix?: string;
  baseUrl: string;
  /**
   * Where events come from (default: the built-in app's tables). Its schema
   * holds our tables; its records feed every post.
   */
  source?: Source;
  discord: { token: string; apiUrl: string; channelId: string; timeoutMs?: number };
  log: Logger;
  concurrency?: number;
  /** REST clients bot posts are spread over (default 8). */
  restClients?: number;
  retry?: RetryPolicy;
  /** Shared rate limits; `null` turns one off (benchmarks against a simulator without limits). */
  rateLimits?: { global?: WindowLimit | null; defaultChannel?: WindowLimit | null };
  /** Flood batching of a channel's backlog (default on). */
  batching?: boolean;
  /** Invalid Discord answers (401/403/429) in 10 minutes at which sending stops (default 5,000). */
  brakeThreshold?: number;
  reconcileAfterMs?: number;
  reconcileIntervalMs?: number;
  /** BullMQ lock duration: how soon a crashed worker's active jobs are taken over. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  relayPollMs?: number;
  metrics?: Metrics;
  /** Hooks for the rich features and the legacy webhook path. */
  extend?: ExtendWorker;
}

export interface RunningWorker {
  db: Db;
  metrics: Metrics;
  relay: OutboxRelay;
  reconciler: Reconciler;
  settings: SettingsCache;
  queues: { bot: Queue; webhook: Queue };
  /** Idempotent; waits for active jobs, bounded by `deadlineMs`. */
  close(deadlineMs?: number): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const resources = await createResources(options);
  const extension = options.extend ? await options.extend(resources) : {};
  const processors = await startProcessors(resources, extension);
  resources.log.info({ prefix: resources.prefix, concurrency: options.concurrency ?? 50, source: (options.source ?? builtinSource).name }, 'worker started');
  return {
    db: resources.db,
    metrics: resources.metrics,
    relay: processors.relay,
    reconciler: processors.reconciler,
    settings: resources.settings,
    queues: resources.queues,
    close: shutdownOf(resources, processors, extension),
  };
}
