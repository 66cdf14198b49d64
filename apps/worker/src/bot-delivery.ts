/**
 * Bot delivery, the single path: one `deliver` job per ledger row (edits,
 * retries, flood batches, and whatever the fast lane hands off; new posts
 * usually arrive through fast-lane.ts). Formats the record as it is now,
 * reserves a slot in the shared rate limiter, posts (or edits) with the bot
 * token, and writes the outcome to the ledger. Every failure goes through
 * classifyDiscordError, the one place that decides rate-limited / transient /
 * permanent.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { REST } from '@discordjs/rest';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { NotifySettings, PrismaClient } from '@flipfix/db';
import { loadPostSubject } from '@flipfix/db';
import type { EntityType, EventType, PostSubject } from '@flipfix/events';
import {
  classifyDiscordError,
  editMessage,
  formatPost,
  formatStatusEdit,
  packEmbeds,
  nonceFor,
  postMessage,
  type DiscordFailure,
} from '@flipfix/discord';
import type { Logger } from '@flipfix/logger';
import { DeliveryJob } from '@flipfix/queue';
import { BATCH_CLAIM_LIMIT, batchMembers, claimBatch, claimSingle, packForLeader, releaseFromBatch } from './batching';
import type { SharedRateLimiter } from './rate-limiter';
import type { Metrics } from './metrics';

export interface BotDeliveryDeps {
  prisma: PrismaClient;
  rest: REST;
  /**
   * The bot token. @discordjs/rest forgets its token after a 401; it is set
   * again so the next delivery retries it (an admin may have fixed it).
   */
  botToken: string;
  limiter: SharedRateLimiter;
  settings: () => NotifySettings;
  baseUrl: string;
  log: Logger;
  metrics: Metrics;
  /** Extra work after a post succeeded (threads, reactions); failures there never undo the post. */
  afterPost?: (ctx: AfterPostContext) => Promise<void>;
  /** Where to post instead of the channel (a thread), when the rich features say so. */
  resolveChannel?: (subject: PostSubject, channelId: string) => Promise<string>;
  /** Flood batching (default on): pack a channel's backlog into messages of up to 10 embeds. */
  batching?: boolean;
  /** Gives deliveries their jobs back (ones released from a batch they did not fit in). */
  requeue?: (deliveryIds: readonly string[]) => Promise<void>;
}

export interface AfterPostContext {
  deliveryId: string;
  eventType: EventType;
  subject: PostSubject;
  channelId: string;
  messageId: string;
}

type DeliveryRow = NonNullable<Awaited<ReturnType<typeof loadDelivery>>>;

function loadDelivery(prisma: PrismaClient, id: string) {
  return prisma.delivery.findUnique({ relationLoadStrategy: 'join', where: { id }, include: { event: true } });
}

/** Outcome of one processing run, for logs and tests. */
export type DeliveryOutcome = 'delivered' | 'already-done' | 'batched' | 'skipped' | 'delayed';

/** The BullMQ processor for the bot queue. */
export function createBotProcessor(deps: BotDeliveryDeps) {
  return async (job: Job, token?: string): Promise<DeliveryOutcome> => {
    const parsed = DeliveryJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    const delivery = await loadDelivery(deps.prisma, parsed.data.deliveryId);
    if (!delivery) throw new UnrecoverableError('delivery not found');
    // The ledger is checked before anything is sent: a redelivered job is a no-op.
    if (delivery.status === 'delivered' || delivery.status === 'skipped') return 'already-done';
    if (delivery.status === 'failed' && !job.data.redeliver) return 'already-done';
    const log = deps.log.child({ deliveryId: delivery.id, eventId: delivery.eventId, type: delivery.event.type });
    try {
      return delivery.action === 'edit'
        ? await deliverEdit(deps, delivery, job, token, log)
        : await deliverPost(deps, delivery, job, token, log);
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      if (err instanceof SkipDelivery) {
        await markSkipped(deps.prisma, delivery.id, err.message);
        return 'skipped';
      }
      return await handleFailure(deps, delivery, job, token, err, log);
    }
  };
}

class SkipDelivery extends Error {
  override name = 'SkipDelivery';
}

/** Thrown when an edit must wait for its original post to be delivered. */
class OriginalNotYetPosted extends Error {
  override name = 'OriginalNotYetPosted';
}

/**
 * Reserves a rate-limit slot or re-queues the job as delayed; resolves the
 * slots left in the window and the slot (to settle once the answer is in).
 */
async function waitForSlot(
  deps: BotDeliveryDeps,
  scope: string,
  job: Job,
  token: string | undefined,
): Promise<{ remaining: number | null; slot: string | null }> {
  const { waitMs, remaining, slot } = await deps.limiter.reserveSlot(scope);
  if (waitMs > 0) {
    deps.metrics.rateLimitWaits.inc();
    await delay(job, token, waitMs);
  }
  return { remaining, slot };
}

async function loadSubject(deps: BotDeliveryDeps, delivery: DeliveryRow): Promise<PostSubject> {
  const subject = await loadSubjectOrNull(deps, delivery);
  if (!subject) throw new SkipDelivery('the record no longer exists');
  return subject;
}

async function markSending(prisma: PrismaClient, delivery: DeliveryRow): Promise<void> {
  await prisma.delivery.update({
    where: { id: delivery.id },
    data: {
      status: 'sending',
      attempts: { increment: 1 },
      ...(delivery.firstAttemptAt ? {} : { firstAttemptAt: new Date() }),
    },
  });
}

async function deliverPost(
  deps: BotDeliveryDeps,
  delivery: DeliveryRow,
  job: Job,
  token: string | undefined,
  log: Logger,
): Promise<DeliveryOutcome> {
  // Another delivery's batch carries this one: that leader's job sends it.
  if (delivery.batchId && delivery.batchId !== delivery.id) return 'batched';
  const subject = await loadSubject(deps, delivery);
  const settings = deps.settings();
  const channelId = deps.resolveChannel ? await deps.resolveChannel(subject, delivery.targetKey) : delivery.targetKey;
  const { remaining: slotsLeft, slot } = await waitForSlot(deps, channelId, job, token);

  const roleMention = settings.unplayableRoleId ? { roleId: settings.unplayableRoleId } : null;
  const format = (s: PostSubject) => formatPost(s, { baseUrl: deps.baseUrl, mode: 'bot', roleMention });
  // Batch when this channel has a backlog: the job already had to wait for a
  // slot, or it takes the window's last slot (whatever else is pending would
  // wait a whole window). A retried leader resends the batch it formed before.
  // Threads route posts to other channels, so batching is off while they are on.
  const retriedLeader = delivery.batchId === delivery.id;
  const backlog = job.data.backlog === true || (slotsLeft !== null && slotsLeft === 0);
  const wantBatch = deps.batching !== false && !settings.threadsEnabled && channelId === delivery.targetKey && backlog;
  // Even a single post claims itself first, so a leader batching this channel
  // concurrently cannot take it too. A retried leader keeps its batch as it
  // was (same members, same nonce), never adding to it.
  const single = !retriedLeader && !wantBatch;
  const memberIds = retriedLeader
    ? await batchMembers(deps.prisma, delivery.id)
    : wantBatch
      ? await claimBatch(deps.prisma, delivery.id, delivery.targetKey, BATCH_CLAIM_LIMIT)
      : (await claimSingle(deps.prisma, delivery.id))
        ? [delivery.id]
        : [];
  if (!memberIds.includes(delivery.id)) {
    // Another leader took this post: the slot reserved for it goes back unused.
    await deps.limiter.release(channelId, slot);
    return 'batched';
  }
  const posts: { id: string; body: ReturnType<typeof formatPost>; subject: PostSubject; row: DeliveryRow }[] = [];
  for (const id of memberIds) {
    const row = id === delivery.id ? delivery : await loadDelivery(deps.prisma, id);
    if (!row) continue;
    const s = id === delivery.id ? subject : await loadSubjectOrNull(deps, row);
    if (!s) {
      await markSkipped(deps.prisma, id, 'the record no longer exists');
      continue;
    }
    posts.push({ id, body: format(s), subject: s, row });
  }
  const batch = packForLeader(delivery.id, posts);
  if (batch.excluded.length > 0) {
    // Their own jobs may have finished ("batched"): give them jobs again.
    await releaseFromBatch(deps.prisma, batch.excluded);
    await deps.requeue?.(batch.excluded);
  }
  const ids = batch.included.map((m) => m.id);
  if (!single) {
    // claimSingle counted a single post's attempt already.
    await deps.prisma.$executeRaw`
      UPDATE deliveries SET status = 'sending', attempts = attempts + 1,
             first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
       WHERE id = ANY(${ids}::uuid[])`;
  }

  const started = Date.now();
  let message: { id: string };
  try {
    message = await postMessage(deps.rest, channelId, batch.body, { nonce: nonceFor(delivery.id) });
  } catch (err) {
    throw new BatchError(err, ids);
  } finally {
    await deps.limiter.settle(channelId, slot).catch(() => undefined);
  }
  const now = new Date();
  const byId = new Map(posts.map((p) => [p.id, p]));
  const sentEmbeds = batch.body.embeds?.length ?? 0;
  const gotEmbeds = (message as { embeds?: unknown[] }).embeds?.length ?? sentEmbeds;
  if (batch.included.length > 1 && gotEmbeds !== sentEmbeds) {
    // Discord answered with an earlier message under this nonce that holds a
    // different set of posts. Only the leader is known to be in it; the
    // others go back to the queue rather than be recorded as posted.
    log.warn({ sentEmbeds, gotEmbeds }, 'nonce matched an earlier message with other contents; requeueing the rest');
    const others = batch.included.map((m) => m.id).filter((id) => id !== delivery.id);
    await releaseFromBatch(deps.prisma, others);
    await deps.requeue?.(others);
    batch.included.splice(0, batch.included.length, { id: delivery.id, embedIndex: 0 });
  }
  const updates = batch.included.map((m) =>
      deps.prisma.delivery.update({
        where: { id: m.id },
        data: {
          status: 'delivered',
          discordChannelId: channelId,
          discordMessageId: message.id,
          embedIndex: m.embedIndex,
          batchId: batch.included.length > 1 ? delivery.id : null,
          payload: (batch.included.length > 1 ? byId.get(m.id)!.body : batch.body) as object,
          lastError: null,
          errorClass: null,
          deliveredAt: now,
        },
      }),
  );
  // One statement for a single post; a transaction for a batch.
  if (updates.length === 1) await updates[0];
  else await deps.prisma.$transaction(updates);
  const callMs = Date.now() - started;
  for (const m of batch.included) deps.metrics.observeDelivered('bot', byId.get(m.id)!.row.event.createdAt, callMs);
  log.info({ channelId, messageId: message.id, embeds: ids.length }, ids.length > 1 ? 'posted batch to discord' : 'posted to discord');
  if (deps.afterPost && ids.length === 1) {
    await deps
      .afterPost({
        deliveryId: delivery.id,
        eventType: delivery.event.type as EventType,
        subject,
        channelId,
        messageId: message.id,
      })
      .catch((err) => log.warn({ err }, 'post-delivery step failed'));
  }
  return 'delivered';
}

/** A failed send of a batch: every member shares the outcome. */
class BatchError extends Error {
  override name = 'BatchError';
  constructor(
    override readonly cause: unknown,
    readonly memberIds: readonly string[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

async function loadSubjectOrNull(deps: BotDeliveryDeps, row: DeliveryRow): Promise<PostSubject | null> {
  const e = row.event;
  return loadPostSubject(deps.prisma, { type: e.type as EventType, entityType: e.entityType as EntityType, entityId: e.entityId }, deps.baseUrl);
}

/** Finds the delivered bot post of the record an edit is about. */
async function findOriginalPost(prisma: PrismaClient, targetKey: string) {
  const [, entity, idText] = targetKey.split(':');
  const entityId = Number(idText);
  const createdType = entity === 'part_request' ? 'part_request_created' : 'problem_report_created';
  const originals = await prisma.delivery.findMany({
    // A post that went out inside a digest has no message of its own to edit.
    where: { target: 'bot', action: 'post', digestKey: null, event: { type: createdType, entityId } },
    orderBy: { createdAt: 'asc' },
  });
  return { entity: entity as EntityType, entityId, originals };
}

async function deliverEdit(
  deps: BotDeliveryDeps,
  delivery: DeliveryRow,
  job: Job,
  token: string | undefined,
  log: Logger,
): Promise<DeliveryOutcome> {
  const { entity, entityId, originals } = await findOriginalPost(deps.prisma, delivery.targetKey);
  const posted = originals.find((d) => d.status === 'delivered' && d.discordMessageId && d.discordChannelId);
  if (!posted) {
    if (originals.some((d) => d.status === 'pending' || d.status === 'sending')) {
      throw new OriginalNotYetPosted('the original post is not delivered yet');
    }
    throw new SkipDelivery('no earlier post to edit');
  }
  const subject = await loadPostSubject(
    deps.prisma,
    {
      type: entity === 'part_request' ? 'part_request_created' : 'problem_report_created',
      entityType: entity,
      entityId,
    },
    deps.baseUrl,
  );
  if (!subject) throw new SkipDelivery('the record no longer exists');
  const channelId = posted.discordChannelId!;
  const edit = await waitForSlot(deps, `edit:${channelId}`, job, token);
  await markSending(deps.prisma, delivery);
  const body = posted.batchId
    ? await rebuildBatchedMessage(deps, posted.discordMessageId!)
    : formatStatusEdit(subject, { baseUrl: deps.baseUrl, mode: 'bot' });
  try {
    await editMessage(deps.rest, channelId, posted.discordMessageId!, body);
  } catch (err) {
    const c = classifyDiscordError(err);
    if (c.kind === 'permanent' && c.code === 10008) throw new SkipDelivery('the original message was deleted');
    throw err;
  } finally {
    await deps.limiter.settle(`edit:${channelId}`, edit.slot).catch(() => undefined);
  }
  await deps.prisma.delivery.update({
    where: { id: delivery.id },
    data: {
      status: 'delivered',
      discordChannelId: channelId,
      discordMessageId: posted.discordMessageId,
      payload: body as object,
      lastError: null,
      errorClass: null,
      deliveredAt: new Date(),
    },
  });
  log.info({ channelId, messageId: posted.discordMessageId }, 'edited discord post');
  return 'delivered';
}

async function markSkipped(prisma: PrismaClient, id: string, reason: string): Promise<void> {
  await prisma.delivery.update({ where: { id }, data: { status: 'skipped', lastError: reason } });
}

async function handleFailure(
  deps: BotDeliveryDeps,
  delivery: DeliveryRow,
  job: Job,
  token: string | undefined,
  thrown: unknown,
  log: Logger,
): Promise<never> {
  // A batch's members share its outcome; a single post is a batch of one.
  const ids = thrown instanceof BatchError ? [...thrown.memberIds] : [delivery.id];
  const err = thrown instanceof BatchError ? thrown.cause : thrown;
  const c: DiscordFailure =
    err instanceof OriginalNotYetPosted ? { kind: 'transient', reason: err.message } : classifyDiscordError(err);
  const update = (data: Parameters<PrismaClient['delivery']['updateMany']>[0]['data']) =>
    deps.prisma.delivery.updateMany({ where: { id: { in: ids } }, data });
  if (c.kind === 'rate_limited') {
    deps.metrics.discord429.inc();
    const scope = c.global ? 'global' : delivery.action === 'edit' ? `edit:${delivery.discordChannelId ?? delivery.targetKey}` : delivery.targetKey;
    await deps.limiter.block(scope, c.retryAfterMs);
    await update({ lastError: `rate limited by Discord, retrying in ${Math.ceil(c.retryAfterMs)} ms`, errorClass: 'rate_limited' });
    log.warn({ retryAfterMs: c.retryAfterMs, global: c.global }, 'rate limited by discord');
    await delay(job, token, c.retryAfterMs);
  }
  if (c.kind === 'permanent') {
    if (c.target === 'token') deps.rest.setToken(deps.botToken);
    await update({ status: 'failed', lastError: c.reason, errorClass: `permanent:${c.target}` });
    deps.metrics.deliveryOutcome.inc({ target: 'bot', outcome: 'failed' }, ids.length);
    log.error({ reason: c.reason, code: c.code, status: c.status, deliveries: ids.length }, 'delivery failed permanently');
    throw new UnrecoverableError(c.reason);
  }
  const attempts = job.opts.attempts ?? 1;
  const last = job.attemptsMade + 1 >= attempts;
  await update({ status: last ? 'failed' : 'pending', lastError: c.reason, errorClass: 'transient' });
  if (last) deps.metrics.deliveryOutcome.inc({ target: 'bot', outcome: 'failed' }, ids.length);
  log.warn({ reason: c.reason, attempt: job.attemptsMade + 1, of: attempts }, last ? 'delivery failed after retries' : 'delivery failed; will retry');
  throw new Error(c.reason);
}

/**
 * Puts the job back as delayed (no worker slot is held while it waits) and
 * marks it as part of a backlog, so that when its turn comes it batches.
 */
async function delay(job: Job, token: string | undefined, ms: number): Promise<never> {
  if (job.data.backlog !== true) await job.updateData({ ...job.data, backlog: true });
  await job.moveToDelayed(Date.now() + Math.ceil(ms), token);
  throw new DelayedError();
}

/**
 * The full body of a batched message as its records are now, so an edit of
 * one embed keeps the others (Discord replaces all embeds on edit).
 */
async function rebuildBatchedMessage(deps: BotDeliveryDeps, messageId: string): Promise<RESTPostAPIChannelMessageJSONBody> {
  const rows = await deps.prisma.delivery.findMany({
    where: { discordMessageId: messageId, action: 'post', status: 'delivered' },
    include: { event: true },
    orderBy: { embedIndex: 'asc' },
  });
  const bodies: RESTPostAPIChannelMessageJSONBody[] = [];
  for (const row of rows) {
    const s = await loadSubjectOrNull(deps, row);
    if (s) bodies.push(formatPost(s, { baseUrl: deps.baseUrl, mode: 'bot' }));
  }
  const packed = packEmbeds(bodies);
  // Records only grow by a field or two on a status change; if they no longer
  // fit one message, keep what fits rather than fail the edit.
  return packed.messages[0]?.body ?? { embeds: [] };
}
