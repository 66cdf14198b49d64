/**
 * The delivery log and redelivery, shared by the admin JSON API and the
 * console. Redelivery resets the ledger row to `pending` (with a note) and
 * re-enqueues its job, so the worker treats it like a fresh attempt.
 */
import type { Queue } from 'bullmq';
import { AppError, type Db, ledger, NotFoundError, type Prisma } from '@flipfix/db';
import { EVENT_TYPES } from '@flipfix/events';
import { DEFAULT_RETRY, deliveryJobId, enqueue, JOBS, type QUEUES, type RetryPolicy } from '@flipfix/queue';
import { z } from '@flipfix/config';

/** Ledger statuses; `held` is a bot post waiting in a digest (packages/bot-features). */
export const DELIVERY_STATUSES = ['pending', 'held', 'sending', 'delivered', 'failed', 'skipped'] as const;
export const TARGETS = ['bot', 'webhook'] as const;

/**
 * Filters of the delivery log (`?type=&status=&target=&limit=&before=`). The
 * status and target filters pick deliveries: an event is listed with only
 * its deliveries that match. `before` is the keyset cursor: the `seq` of the
 * last event on the previous page.
 */
export const EventsQuery = z.object({
  type: z.enum(EVENT_TYPES).optional().or(z.literal('').transform(() => undefined)),
  status: z.enum(DELIVERY_STATUSES).optional().or(z.literal('').transform(() => undefined)),
  target: z.enum(TARGETS).optional().or(z.literal('').transform(() => undefined)),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  before: z
    .string()
    .regex(/^\d{1,18}$/, 'must be an event sequence number')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

/** One delivery as the API shows it. */
export interface DeliveryView {
  id: string;
  target: string;
  targetKey: string;
  action: string;
  status: string;
  attempts: number;
  lastError: string | null;
  errorClass: string | null;
  discordChannelId: string | null;
  discordMessageId: string | null;
  threadId: string | null;
  /** Index of this event's embed in a message that carries several (flood batching, digests). */
  embedIndex: number | null;
  /** Flood batching: the leader delivery whose message carries this event's embed. */
  batchId: string | null;
  /** Digest this post waits in (`held`) or went out with: `<channel>:<actor>`. */
  digestKey: string | null;
  createdAt: Date;
  firstAttemptAt: Date | null;
  deliveredAt: Date | null;
  updatedAt: Date;
  /** Event commit to Discord message, when delivered. */
  latencyMs: number | null;
}

/** One outbox event with its deliveries. */
export interface EventView {
  id: string;
  /** Commit order; the delivery log's page cursor. */
  seq: string;
  type: string;
  entityType: string;
  entityId: number;
  actorName: string | null;
  status: string;
  createdAt: Date;
  publishedAt: Date | null;
  routedAt: Date | null;
  deliveries: DeliveryView[];
}

/** Recent events, newest first (by commit order), with their deliveries that match the status / target filters. */
export async function listEvents(db: Db, q: EventsQuery): Promise<EventView[]> {
  const deliveryWhere: Prisma.DeliveryWhereInput = {
    ...(q.status ? { status: q.status } : {}),
    ...(q.target ? { target: q.target } : {}),
  };
  const filtered = q.status !== undefined || q.target !== undefined;
  const events = await db.prisma.outboxEvent.findMany({
    where: {
      ...(q.type ? { type: q.type } : {}),
      ...(filtered ? { deliveries: { some: deliveryWhere } } : {}),
      ...(q.before ? { seq: { lt: BigInt(q.before) } } : {}),
    },
    orderBy: { seq: 'desc' },
    take: q.limit ?? 50,
    include: { deliveries: { where: deliveryWhere, orderBy: [{ createdAt: 'asc' }, { target: 'asc' }] } },
  });
  return events.map((e) => ({
    id: e.id,
    seq: e.seq.toString(),
    type: e.type,
    entityType: e.entityType,
    entityId: e.entityId,
    actorName: e.actorName,
    status: e.status,
    createdAt: e.createdAt,
    publishedAt: e.publishedAt,
    routedAt: e.routedAt,
    deliveries: e.deliveries.map((d) => ({
      id: d.id,
      target: d.target,
      targetKey: d.targetKey,
      action: d.action,
      status: d.status,
      attempts: d.attempts,
      lastError: d.lastError,
      errorClass: d.errorClass,
      discordChannelId: d.discordChannelId,
      discordMessageId: d.discordMessageId,
      threadId: d.threadId,
      embedIndex: d.embedIndex,
      batchId: d.batchId,
      digestKey: d.digestKey,
      createdAt: d.createdAt,
      firstAttemptAt: d.firstAttemptAt,
      deliveredAt: d.deliveredAt,
      updatedAt: d.updatedAt,
      latencyMs: d.deliveredAt ? d.deliveredAt.getTime() - e.createdAt.getTime() : null,
    })),
  }));
}

export interface RedeliverDeps {
  db: Db;
  queues: Record<keyof typeof QUEUES, Queue>;
  retry?: RetryPolicy;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Puts one delivery back to `pending` (the ledger's `redeliver` transition)
 * and gives it a job again. A delivered one is a `conflict` unless `force`:
 * then it is posted again as a new message, under a new nonce (Discord
 * answers a nonce it has seen with the message it already created).
 */
export async function redeliver(deps: RedeliverDeps, deliveryId: string, options: { force?: boolean; actor?: string } = {}) {
  if (!UUID.test(deliveryId)) throw new NotFoundError('Delivery', deliveryId.slice(0, 40));
  const delivery = await deps.db.prisma.delivery.findUnique({ where: { id: deliveryId } });
  if (delivery === null) throw new NotFoundError('Delivery', deliveryId);
  if (delivery.status === 'held') {
    throw new AppError('conflict', 'This delivery is held for a digest; it is posted with the digest when the window closes');
  }
  if (delivery.status === 'delivered' && !options.force) {
    throw new AppError('conflict', 'This delivery was already delivered; redeliver with force=true to post it again');
  }
  const previous = delivery.lastError ? ` (was ${delivery.status}: ${delivery.lastError})` : ` (was ${delivery.status})`;
  const note = `redelivery requested by ${options.actor ?? 'admin'} at ${new Date().toISOString()}${previous}`;
  const moved = await ledger.redeliver(deps.db.pool, deliveryId, note, { force: options.force === true });
  if (moved.length === 0) throw new AppError('conflict', `This delivery is ${delivery.status} right now; redeliver it once it has finished`);
  const retry = { retry: deps.retry ?? DEFAULT_RETRY, ifAbsent: true };
  const jobId = deliveryJobId(deliveryId);
  const enqueued =
    delivery.target === 'webhook'
      ? await enqueue(deps.queues.webhook, JOBS.deliverWebhook, [{ data: { deliveryId }, jobId }], retry)
      : await enqueue(deps.queues.bot, JOBS.deliverBot, [{ data: { deliveryIds: [deliveryId] }, jobId }], retry);
  return { id: deliveryId, status: 'pending' as const, target: delivery.target, enqueued: enqueued > 0 };
}

/** Redelivers every failed delivery (optionally of one target), up to `limit`. */
export async function redeliverFailed(deps: RedeliverDeps, options: { target?: 'bot' | 'webhook'; limit?: number; actor?: string } = {}) {
  const failed = await deps.db.prisma.delivery.findMany({
    where: { status: 'failed', ...(options.target ? { target: options.target } : {}) },
    orderBy: { updatedAt: 'asc' },
    take: options.limit ?? 500,
    select: { id: true },
  });
  const ids: string[] = [];
  for (const d of failed) {
    await redeliver(deps, d.id, options.actor === undefined ? {} : { actor: options.actor });
    ids.push(d.id);
  }
  return { count: ids.length, ids };
}
