/**
 * Webhook delivery (the legacy path): one BullMQ job per ledger row on the
 * `webhook-deliveries` queue. The same formatter as the bot (`mode:
 * 'webhook'`: no components), the same shared rate limiter (scope
 * `webhook:<id>`), the same failure classification; the webhook is executed
 * with `?wait=true` so the message id lands in the ledger, and without bot
 * auth, so a 401 can never clear the bot's token.
 *
 * The webhook URL holds a token. It is read from the database here and
 * handed to @flipfix/discord's `executeWebhook`; it never goes into a log
 * line, a ledger row, a job or an error message (every reason is scrubbed
 * and the literal token removed once more, in case a message carried it).
 */
import type { REST } from '@discordjs/rest';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { RedisConnection as Redis } from '@flipfix/queue';
import { loadPostSubject, type PrismaClient } from '@flipfix/db';
import type { EntityType, EventType } from '@flipfix/events';
import {
  classifyDiscordError,
  createDiscordRest,
  type DiscordFailure,
  executeWebhook,
  formatPost,
  onRateLimitHeaders,
  parseWebhookUrl,
  scrubSecrets,
  type WebhookRef,
} from '@flipfix/discord';
import type { Logger } from '@flipfix/logger';
import { DeliveryJob, QUEUES } from '@flipfix/queue';
import { disableWebhookEndpoint, loadEndpointSecret, webhookEndpointIdsFor } from './endpoints';

/** The part of the worker's shared rate limiter this path uses (structural: apps/worker's SharedRateLimiter fits). */
export interface WebhookRateLimiter {
  /** 0 when a request may go now, else the milliseconds to wait. */
  reserve(scope: string): Promise<number>;
  block(scope: string, retryAfterMs: number): Promise<void>;
  observe?(scope: string, observed: { limit: number; remaining: number; resetAfterMs: number }): Promise<void>;
}

/** The worker metrics this path reports to (structural: apps/worker's Metrics fits). */
export interface WebhookMetrics {
  observeDelivered(target: 'bot' | 'webhook', eventCreatedAt: Date, callMs: number): void;
  deliveryOutcome: { inc(labels: { target: string; outcome: string }): void };
  discord429: { inc(): void };
  rateLimitWaits: { inc(): void };
}

/** The scope of a webhook in the shared rate limiter (the worker's REST hook uses the same). */
export function webhookScope(webhookId: string): string {
  return `webhook:${webhookId}`;
}

/** Dependencies of {@link createWebhookProcessor}. */
export interface WebhookDeliveryDeps {
  prisma: PrismaClient;
  /** An @discordjs/rest client; requests go out with `auth: false`. */
  rest: REST;
  limiter: WebhookRateLimiter;
  /** Absolute base for links in posts (APP_BASE_URL). */
  baseUrl: string;
  log: Logger;
  metrics?: WebhookMetrics | undefined;
}

/** Outcome of one processing run, for logs and tests. */
export type WebhookDeliveryOutcome = 'delivered' | 'already-done' | 'skipped';

type DeliveryRow = NonNullable<Awaited<ReturnType<typeof loadDelivery>>>;

function loadDelivery(prisma: PrismaClient, id: string) {
  return prisma.delivery.findUnique({ where: { id }, include: { event: true } });
}

class SkipDelivery extends Error {
  override name = 'SkipDelivery';
}

/** Removes every trace of a webhook token from text bound for logs, errors or the ledger. */
function redact(text: string, token: string | undefined): string {
  const scrubbed = scrubSecrets(text);
  return token && token.length >= 4 ? scrubbed.split(token).join('***') : scrubbed;
}

/** The BullMQ processor for the webhook queue. */
export function createWebhookProcessor(deps: WebhookDeliveryDeps) {
  return async (job: Job, token?: string): Promise<WebhookDeliveryOutcome> => {
    const parsed = DeliveryJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('invalid webhook delivery payload');
    const delivery = await loadDelivery(deps.prisma, parsed.data.deliveryId);
    if (!delivery) throw new UnrecoverableError('delivery not found');
    if (delivery.target !== 'webhook') throw new UnrecoverableError('not a webhook delivery');
    // The ledger is checked before anything is sent: a repeated job is a no-op.
    if (delivery.status === 'delivered' || delivery.status === 'skipped') return 'already-done';
    if (delivery.status === 'failed' && !(job.data as { redeliver?: unknown }).redeliver) return 'already-done';
    const log = deps.log.child({ deliveryId: delivery.id, eventId: delivery.eventId, type: delivery.event.type, endpointId: delivery.targetKey });
    let ref: WebhookRef | undefined;
    try {
      const endpoint = await loadEndpointSecret(deps.prisma, delivery.targetKey);
      if (!endpoint) throw new SkipDelivery('the webhook endpoint was deleted');
      if (!endpoint.enabled) throw new SkipDelivery(`the webhook endpoint is disabled: ${endpoint.disabledReason ?? 'no reason given'}`);
      ref = parseWebhookUrl(endpoint.url) ?? undefined;
      if (!ref) {
        await disableWebhookEndpoint(deps.prisma, endpoint.id, 'the stored URL is not a webhook URL');
        throw new SkipDelivery('the stored URL is not a webhook URL');
      }
      const subject = await loadPostSubject(
        deps.prisma,
        { type: delivery.event.type as EventType, entityType: delivery.event.entityType as EntityType, entityId: delivery.event.entityId },
        deps.baseUrl,
      );
      if (!subject) throw new SkipDelivery('the record no longer exists');

      const waitMs = await deps.limiter.reserve(webhookScope(ref.id));
      if (waitMs > 0) {
        deps.metrics?.rateLimitWaits.inc();
        // Back to the queue as delayed: no worker slot is held while waiting.
        await job.moveToDelayed(Date.now() + waitMs, token);
        throw new DelayedError();
      }
      await markSending(deps.prisma, delivery);
      // Legacy webhooks never pinged anyone: no role mention, no components.
      const body = formatPost(subject, { baseUrl: deps.baseUrl, mode: 'webhook', roleMention: null });
      const started = Date.now();
      const message = await executeWebhook(deps.rest, endpoint.url, body);
      await deps.prisma.delivery.update({
        where: { id: delivery.id },
        data: {
          status: 'delivered',
          discordChannelId: message.channel_id,
          discordMessageId: message.id,
          embedIndex: 0,
          payload: body as object,
          lastError: null,
          errorClass: null,
          deliveredAt: new Date(),
        },
      });
      deps.metrics?.observeDelivered('webhook', delivery.event.createdAt, Date.now() - started);
      log.info({ webhookId: ref.id, channelId: message.channel_id, messageId: message.id }, 'posted to discord webhook');
      return 'delivered';
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      if (err instanceof SkipDelivery) {
        await deps.prisma.delivery.update({ where: { id: delivery.id }, data: { status: 'skipped', lastError: err.message } });
        deps.metrics?.deliveryOutcome.inc({ target: 'webhook', outcome: 'skipped' });
        log.warn({ reason: err.message }, 'webhook delivery skipped');
        return 'skipped';
      }
      return await handleFailure(deps, delivery, job, token, err, ref, log);
    }
  };
}

async function markSending(prisma: PrismaClient, delivery: DeliveryRow): Promise<void> {
  await prisma.delivery.update({
    where: { id: delivery.id },
    data: { status: 'sending', attempts: { increment: 1 }, ...(delivery.firstAttemptAt ? {} : { firstAttemptAt: new Date() }) },
  });
}

async function handleFailure(
  deps: WebhookDeliveryDeps,
  delivery: DeliveryRow,
  job: Job,
  token: string | undefined,
  err: unknown,
  ref: WebhookRef | undefined,
  log: Logger,
): Promise<never> {
  const raw: DiscordFailure = classifyDiscordError(err);
  const c: DiscordFailure = { ...raw, reason: redact(raw.reason, ref?.token) };
  const webhookId = ref?.id;
  if (c.kind === 'rate_limited') {
    deps.metrics?.discord429.inc();
    if (c.global) await deps.limiter.block('global', c.retryAfterMs);
    else if (webhookId) await deps.limiter.block(webhookScope(webhookId), c.retryAfterMs);
    await deps.prisma.delivery.update({
      where: { id: delivery.id },
      data: { status: 'pending', lastError: `rate limited by Discord, retrying in ${Math.ceil(c.retryAfterMs)} ms`, errorClass: 'rate_limited' },
    });
    log.warn({ retryAfterMs: c.retryAfterMs, global: c.global }, 'webhook rate limited by discord');
    // Waited out as a delayed job, not in a worker slot, and not counted as an attempt.
    await job.moveToDelayed(Date.now() + Math.ceil(c.retryAfterMs), token);
    throw new DelayedError();
  }
  if (c.kind === 'permanent') {
    let disabled = false;
    if (c.target === 'webhook') {
      // Discord asks that a deleted webhook (10015) or a bad token (50027) is not called again.
      disabled = await disableWebhookEndpoint(deps.prisma, delivery.targetKey, c.reason);
    }
    await deps.prisma.delivery.update({
      where: { id: delivery.id },
      data: { status: 'failed', lastError: c.reason, errorClass: `permanent:${c.target}` },
    });
    deps.metrics?.deliveryOutcome.inc({ target: 'webhook', outcome: 'failed' });
    log.error({ reason: c.reason, code: c.code, status: c.status, endpointDisabled: disabled, webhookId }, 'webhook delivery failed permanently');
    throw new UnrecoverableError(c.reason);
  }
  const attempts = job.opts.attempts ?? 1;
  const last = job.attemptsMade + 1 >= attempts;
  await deps.prisma.delivery.update({
    where: { id: delivery.id },
    data: { status: last ? 'failed' : 'pending', lastError: c.reason, errorClass: 'transient' },
  });
  if (last) deps.metrics?.deliveryOutcome.inc({ target: 'webhook', outcome: 'failed' });
  log.warn(
    { reason: c.reason, attempt: job.attemptsMade + 1, of: attempts },
    last ? 'webhook delivery failed after retries' : 'webhook delivery failed; will retry',
  );
  // BullMQ retries with the job's exponential backoff; the message is already scrubbed.
  throw new Error(c.reason);
}

/**
 * What {@link createWebhookExtension} needs from the worker (structural:
 * apps/worker's `WorkerContext` fits, so the package does not depend on the app).
 */
export interface WebhookWorkerContext {
  db: { prisma: PrismaClient };
  redis: Redis;
  limiter: WebhookRateLimiter;
  log: Logger;
  prefix: string;
  metrics?: WebhookMetrics;
  options: {
    baseUrl: string;
    discord: { apiUrl: string; timeoutMs?: number };
    lockDurationMs?: number;
    stalledIntervalMs?: number;
  };
}

/** Options for {@link createWebhookExtension}. */
export interface WebhookExtensionOptions {
  /** Parallel webhook jobs per worker process. Default 20. */
  concurrency?: number;
  /** A REST client to use instead of a fresh unauthenticated one (tests). */
  rest?: REST;
}

/** What the worker's `extend` hook receives back (structural: apps/worker's `WorkerExtension`). */
export interface WebhookExtension {
  webhookEndpointsFor: (type: EventType) => Promise<string[]>;
  workers: Worker[];
  close: () => Promise<void>;
}

/**
 * The legacy webhook path as a worker extension: the router asks
 * `webhookEndpointsFor(type)` for its targets, and `workers` holds the
 * consumer of the webhook queue. Wire it in the worker entry point with
 * `extend: (ctx) => createWebhookExtension(ctx)`.
 */
export function createWebhookExtension(ctx: WebhookWorkerContext, options: WebhookExtensionOptions = {}): WebhookExtension {
  // A client of its own without a token: webhooks authenticate by their URL.
  const rest =
    options.rest ??
    createDiscordRest({ apiUrl: ctx.options.discord.apiUrl, ...(ctx.options.discord.timeoutMs ? { timeoutMs: ctx.options.discord.timeoutMs } : {}) });
  const stopObserving = onRateLimitHeaders(rest, (info) => {
    if (!ctx.limiter.observe || !info.route.startsWith('/webhooks/:id') || info.limit === null || info.resetAfterMs === null) return;
    const observed = { limit: info.limit, remaining: info.remaining ?? 0, resetAfterMs: info.resetAfterMs };
    void ctx.limiter.observe(webhookScope(info.majorParameter), observed).catch(() => undefined);
  });
  const processor = createWebhookProcessor({
    prisma: ctx.db.prisma,
    rest,
    limiter: ctx.limiter,
    baseUrl: ctx.options.baseUrl,
    log: ctx.log.child({ path: 'webhook' }),
    metrics: ctx.metrics,
  });
  const worker = new Worker(QUEUES.webhook, processor, {
    connection: ctx.redis,
    prefix: ctx.prefix,
    concurrency: options.concurrency ?? 20,
    lockDuration: ctx.options.lockDurationMs ?? 30_000,
    stalledInterval: ctx.options.stalledIntervalMs ?? 30_000,
    // A job interrupted by a crash is taken over, not failed.
    maxStalledCount: 10,
  });
  return {
    webhookEndpointsFor: (type) => webhookEndpointIdsFor(ctx.db.prisma, type),
    workers: [worker],
    close: async () => {
      stopObserving();
    },
  };
}

/** The parts of another worker extension that {@link withLegacyWebhooks} merges with. */
export interface MergeableExtension {
  workers?: Worker[];
  close?: () => Promise<void>;
}

/**
 * Wraps the worker's other `extend` hook (the bot features, say) and adds
 * the legacy webhook path to what it returns, so wiring and removing the
 * path stays one line: `extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx))`.
 * Without an inner hook it is the webhook extension alone.
 */
export function withLegacyWebhooks<C extends WebhookWorkerContext, E extends object = MergeableExtension>(
  inner?: (ctx: C) => E | Promise<E>,
  options: WebhookExtensionOptions = {},
): (ctx: C) => Promise<Omit<E, keyof WebhookExtension> & WebhookExtension> {
  return async (ctx) => {
    const base = inner ? await inner(ctx) : undefined;
    const merge = base as MergeableExtension | undefined;
    const hooks = createWebhookExtension(ctx, options);
    return {
      ...(base as E),
      webhookEndpointsFor: hooks.webhookEndpointsFor,
      workers: [...(merge?.workers ?? []), ...hooks.workers],
      close: async () => {
        await hooks.close();
        await merge?.close?.();
      },
    };
  };
}
