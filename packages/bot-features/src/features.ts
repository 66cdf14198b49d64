/**
 * The worker side of the rich bot features, as the hooks `startWorker`'s
 * `extend` option takes: threads and reactions after a post, thread routing
 * before one, and digests at routing time.
 */
import type { REST } from '@discordjs/rest';
import type { Queue, Worker } from 'bullmq';
import type { OutboxEvent } from '@flipfix/db';
import { createDiscordRest, onRateLimitHeaders } from '@flipfix/discord';
import type { AfterPostContext, PlannedPost, WorkerContext, WorkerExtension } from '@flipfix/engine';
import type { PostSubject } from '@flipfix/events';
import { openQueue, QUEUES } from '@flipfix/queue';
import { Digests } from './digest';
import { addConfiguredReactions } from './reactions';
import { Threads } from './threads';

/** Options of {@link createBotFeatures}. */
export interface BotFeaturesOptions {
  /** Digest window in milliseconds instead of the settings' seconds (tests, benchmarks). */
  digestWindow?: { quietMs: number; maxMs: number };
  /** How often held digests are checked for a flush job. Default 10 s. */
  digestSweepMs?: number;
  /** A REST client to use instead of one made from the worker's Discord options. */
  rest?: REST;
}

/** The extension hooks plus handles for tests. */
export interface BotFeatures extends WorkerExtension {
  afterPost(p: AfterPostContext): Promise<void>;
  resolveChannel(subject: PostSubject, channelId: string): Promise<string>;
  holdForDigest(event: OutboxEvent, target: PlannedPost): Promise<string | null>;
  workers: Worker[];
  close(): Promise<void>;
  digests: Digests;
  threads: Threads;
}

/**
 * Creates the hooks for `startWorker({ extend: (ctx) => createBotFeatures(ctx) })`.
 * Starts the digest flush worker and its sweep; `close()` stops them
 * without flushing (held posts wait in Postgres for the next process).
 */
export function createBotFeatures(ctx: WorkerContext, options: BotFeaturesOptions = {}): BotFeatures {
  const settings = () => ctx.settings.current;
  const rest =
    options.rest ??
    createDiscordRest({ token: ctx.options.discord.token, apiUrl: ctx.options.discord.apiUrl, timeoutMs: ctx.options.discord.timeoutMs ?? 15_000 });
  // Digest posts share the channel's message bucket with every other post: teach the shared limiter what Discord says.
  const stopObserving = onRateLimitHeaders(rest, (info) => {
    if (info.route === '/channels/:id/messages' && info.limit !== null && info.resetAfterMs !== null) {
      const observed = { limit: info.limit, remaining: info.remaining ?? 0, resetAfterMs: info.resetAfterMs };
      void ctx.limiter.observe(info.majorParameter, observed).catch(() => undefined);
    }
  });
  const stopCounting = ctx.watchInvalidRequests(rest);
  const log = ctx.log.child({ module: 'bot-features' });
  const threads = new Threads({ prisma: ctx.db.prisma, rest, baseUrl: ctx.options.baseUrl, records: ctx.records, settings, log });
  const botQueue: Queue = openQueue(QUEUES.bot, ctx.redis, ctx.prefix);
  const digests = new Digests({
    db: ctx.db,
    queueWorkerOptions: ctx.queueWorkerOptions,
    rest,
    limiter: ctx.limiter,
    metrics: ctx.metrics,
    settings,
    baseUrl: ctx.options.baseUrl,
    records: ctx.records,
    log,
    retry: ctx.retry,
    botQueue,
    window: options.digestWindow,
    sweepMs: options.digestSweepMs,
  });
  digests.start();

  return {
    async afterPost(p) {
      // Independent steps: a failed thread start does not cost the reactions.
      await threads.afterPost(p).catch((err) => log.warn({ err, deliveryId: p.deliveryId }, 'could not start thread'));
      await addConfiguredReactions({ rest, settings, log }, p);
    },
    resolveChannel: (subject, channelId) => threads.resolveChannel(subject, channelId),
    holdForDigest: (event, target) => digests.hold(event, target),
    // The digest worker is closed by close(), after its sweep stops.
    workers: [],
    async close() {
      await digests.close();
      await botQueue.close();
      stopObserving();
      stopCounting();
    },
    digests,
    threads,
  };
}
