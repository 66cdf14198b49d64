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
import { DelayedError, type Job, Worker } from 'bullmq';
import { ledger, type Db, type SourceRecords } from '@flipfix/db';
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
import {
  attemptOf,
  type DeliveryMetrics,
  finishJob,
  handleFailure,
  type InvalidRequestBrake,
  type RateLimiter,
  type WorkerContext,
  type WorkerExtension,
} from '@flipfix/engine';
import type { Logger } from '@flipfix/logger';
import { JOBS, parseJob, QUEUES } from '@flipfix/queue';
import { disableWebhookEndpoint, loadEndpointSecret, webhookEndpointIdsFor } from './endpoints';

/** The scope of a webhook in the shared rate limiter (the worker's REST hook uses the same). */
export function webhookScope(webhookId: string): string {
  return `webhook:${webhookId}`;
}

/** Dependencies of {@link createWebhookProcessor}. */
export interface WebhookDeliveryDeps {
  db: Db;
  /** An @discordjs/rest client; requests go out with `auth: false`. */
  rest: REST;
  limiter: Pick<RateLimiter, 'reserve' | 'block'>;
  /** The invalid-request brake: while it is on, nothing is sent (the job waits). */
  brake?: Pick<InvalidRequestBrake, 'state'> | undefined;
  /** Absolute base for links in posts (APP_BASE_URL). */
  baseUrl: string;
  /** The source's records, read fresh for each post. */
  records: Pick<SourceRecords, 'loadPostSubjects'>;
  log: Logger;
  metrics?: DeliveryMetrics | undefined;
}

/** Outcome of one processing run, for logs and tests. */
export type WebhookDeliveryOutcome = 'delivered' | 'already-done' | 'skipped' | 'failed';

function loadDelivery(db: Db, id: string) {
  return db.prisma.delivery.findUnique({ where: { id }, include: { event: true } });
}

/** Removes every trace of a webhook token from text bound for logs, errors or the ledger. */
function redact(text: string, token: string | undefined): string {
  const scrubbed = scrubSecrets(text);
  return token && token.length >= 4 ? scrubbed.split(token).join('***') : scrubbed;
}

/** The BullMQ processor for the webhook queue. */
export function createWebhookProcessor(deps: WebhookDeliveryDeps) {
  return async (job: Job, token?: string): Promise<WebhookDeliveryOutcome> => {
    const { deliveryId } = parseJob(JOBS.deliverWebhook, job);
    const delivery = await loadDelivery(deps.db, deliveryId);
    // The ledger is checked before anything is sent: a repeated job is a no-op.
    if (delivery?.target !== 'webhook' || (delivery.status !== 'pending' && delivery.status !== 'sending')) return 'already-done';
    const log = deps.log.child({ deliveryId: delivery.id, eventId: delivery.eventId, type: delivery.event.type, endpointId: delivery.targetKey });
    const skip = async (reason: string): Promise<'skipped'> => {
      await ledger.skipped(deps.db.pool, [delivery.id], reason);
      deps.metrics?.deliveryOutcome.inc({ target: 'webhook', outcome: 'skipped' });
      log.warn({ reason }, 'webhook delivery skipped');
      return 'skipped';
    };
    const wait = async (ms: number): Promise<never> => {
      // Back to the queue as delayed: no worker slot is held while waiting.
      await job.moveToDelayed(Date.now() + Math.ceil(ms), token);
      throw new DelayedError();
    };
    const endpoint = await loadEndpointSecret(deps.db.prisma, delivery.targetKey);
    if (!endpoint) return skip('the webhook endpoint was deleted');
    if (!endpoint.enabled) return skip(`the webhook endpoint is disabled: ${endpoint.disabledReason ?? 'no reason given'}`);
    const ref: WebhookRef | null = parseWebhookUrl(endpoint.url);
    if (!ref) {
      await disableWebhookEndpoint(deps.db.prisma, endpoint.id, 'the stored URL is not a webhook URL');
      return skip('the stored URL is not a webhook URL');
    }
    const [subject] = await deps.records.loadPostSubjects([
      { type: delivery.event.type as EventType, entityType: delivery.event.entityType as EntityType, entityId: delivery.event.entityId },
    ]);
    if (!subject) return skip('the record no longer exists');
    const brake = await deps.brake?.state();
    if (brake?.on) return wait(brake.retryAfterMs);
    const waitMs = await deps.limiter.reserve(webhookScope(ref.id));
    if (waitMs > 0) {
      deps.metrics?.rateLimitWaits.inc();
      return wait(waitMs);
    }
    // A webhook post carries no nonce: the claim is only the attempt count.
    if ((await ledger.claim(deps.db.pool, [delivery.id])).length === 0) await ledger.resend(deps.db.pool, [delivery.id]);
    // Legacy webhooks never pinged anyone: no role mention, no components.
    const body = formatPost(subject, { baseUrl: deps.baseUrl, mode: 'webhook', roleMention: null });
    const started = Date.now();
    try {
      const message = await executeWebhook(deps.rest, endpoint.url, body);
      await ledger.delivered(deps.db.pool, [{ id: delivery.id, channelId: message.channel_id, messageId: message.id, embedIndex: 0, batchId: null, payload: body }]);
      deps.metrics?.observeDelivered('webhook', delivery.event.createdAt, Date.now() - started);
      log.info({ webhookId: ref.id, channelId: message.channel_id, messageId: message.id }, 'posted to discord webhook');
      return 'delivered';
    } catch (err) {
      const raw = classifyDiscordError(err);
      const failure: DiscordFailure = { ...raw, reason: redact(raw.reason, ref.token) };
      // Discord asks that a deleted webhook (10015) or a bad token (50027) is not called again.
      const disableWebhook = (reason: string) => disableWebhookEndpoint(deps.db.prisma, delivery.targetKey, reason);
      const applyDeps = { db: deps.db.pool, limiter: deps.limiter, metrics: deps.metrics, log: log.child({ webhookId: ref.id }), target: 'webhook' as const, disableWebhook };
      const decision = await handleFailure(applyDeps, failure, attemptOf(job), [delivery.id], webhookScope(ref.id));
      // The reason is already scrubbed.
      await finishJob(job, token, decision.job, decision.ledger.reason);
      return decision.ledger.transition === 'skipped' ? 'skipped' : 'failed';
    }
  };
}

/** Options for {@link createWebhookExtension}. */
export interface WebhookExtensionOptions {
  /** Parallel webhook jobs per worker process. Default 20. */
  concurrency?: number;
  /** A REST client to use instead of a fresh unauthenticated one (tests). */
  rest?: REST;
}

/** The hooks the webhook path gives the worker. */
export type WebhookExtension = Required<Pick<WorkerExtension, 'webhookEndpointsFor' | 'workers' | 'close'>>;

/**
 * The legacy webhook path as a worker extension: the router asks
 * `webhookEndpointsFor(type)` for its targets, and `workers` holds the
 * consumer of the webhook queue. Wire it in the worker entry point with
 * `extend: (ctx) => createWebhookExtension(ctx)`.
 */
export function createWebhookExtension(ctx: WorkerContext, options: WebhookExtensionOptions = {}): WebhookExtension {
  // A client of its own without a token: webhooks authenticate by their URL.
  const rest =
    options.rest ??
    createDiscordRest({ apiUrl: ctx.options.discord.apiUrl, ...(ctx.options.discord.timeoutMs ? { timeoutMs: ctx.options.discord.timeoutMs } : {}) });
  const stopObserving = onRateLimitHeaders(rest, (info) => {
    if (!info.route.startsWith('/webhooks/:id') || info.limit === null || info.resetAfterMs === null) return;
    const observed = { limit: info.limit, remaining: info.remaining ?? 0, resetAfterMs: info.resetAfterMs };
    void ctx.limiter.observe(webhookScope(info.majorParameter), observed).catch(() => undefined);
  });
  const stopCounting = ctx.watchInvalidRequests(rest);
  const processor = createWebhookProcessor({
    db: ctx.db,
    rest,
    limiter: ctx.limiter,
    brake: ctx.brake,
    baseUrl: ctx.options.baseUrl,
    records: ctx.records,
    log: ctx.log.child({ path: 'webhook' }),
    metrics: ctx.metrics,
  });
  const worker = new Worker(QUEUES.webhook, processor, { ...ctx.queueWorkerOptions, concurrency: options.concurrency ?? 20 });
  return {
    webhookEndpointsFor: (type) => webhookEndpointIdsFor(ctx.db.prisma, type),
    workers: [worker],
    close: async () => {
      stopObserving();
      stopCounting();
    },
  };
}

/** The parts of another worker extension that {@link withLegacyWebhooks} merges with. */
export type MergeableExtension = Pick<WorkerExtension, 'workers' | 'close'>;

/**
 * Wraps the worker's other `extend` hook (the bot features, say) and adds
 * the legacy webhook path to what it returns, so wiring and removing the
 * path stays one line: `extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx))`.
 * Without an inner hook it is the webhook extension alone.
 */
export function withLegacyWebhooks<C extends WorkerContext, E extends object = MergeableExtension>(
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
