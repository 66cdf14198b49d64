/**
 * The router: turns outbox events into one delivery per target, following
 * the settings in effect when the event is routed (per-event toggle, channel,
 * delivery mode). It runs inside the relay's claim transaction: each delivery
 * is a ledger row (unique per event and target), and its job is added after
 * COMMIT with an id derived from the ledger id, so routing twice is harmless.
 */
import type { Queue } from 'bullmq';
import type { PoolClient } from 'pg';
import { isEventType, type EventType } from '@flipfix/events';
import { ledger, type NewDelivery, type NotifySettings, type OutboxEvent } from '@flipfix/db';
import type { WorkerExtension } from '@flipfix/engine';
import {
  DELIVERY_BATCH_MAX,
  deliveryBatchJobId,
  deliveryJobId,
  enqueue,
  JOBS,
  type JobToAdd,
  type RetryPolicy,
} from '@flipfix/queue';

/** One planned delivery. `bot` posts (or edits) with the bot; `webhook` is the legacy path. */
export interface PlannedTarget {
  target: 'bot' | 'webhook';
  /** Channel id for bot posts, `edit:<entity>:<id>` for in-place edits, endpoint id for webhooks. */
  targetKey: string;
  action: 'post' | 'edit';
  /** Set when the target is planned but must not be sent (why, for the ledger). */
  skipReason?: string;
}

export interface EventForRouting {
  type: string;
  entityType: string;
  entityId: number;
  /** For a part request update that set a new status: the request whose post to edit. */
  editsPartRequestId?: number | null;
}

/**
 * Decides the targets of one event (pure; the tests pin it down).
 * `webhookEndpointIds` are the enabled endpoints subscribed to this type.
 */
export function planTargets(
  event: EventForRouting,
  settings: NotifySettings,
  defaultChannelId: string,
  webhookEndpointIds: readonly string[],
): PlannedTarget[] {
  if (!isEventType(event.type)) return [];
  const type: EventType = event.type;
  const toggle = settings.events[type];
  const enabled = toggle?.enabled ?? true;
  const botOn = settings.deliveryMode === 'bot' || settings.deliveryMode === 'both';
  const hooksOn = settings.deliveryMode === 'webhooks' || settings.deliveryMode === 'both';
  const targets: PlannedTarget[] = [];

  if (type === 'problem_report_status_changed') {
    // Edits the original post; never a second message (Flipfix #208).
    if (botOn) {
      targets.push({
        target: 'bot',
        targetKey: `edit:problem_report:${event.entityId}`,
        action: 'edit',
        ...(enabled ? {} : { skipReason: 'event type disabled in settings' }),
      });
    }
    return targets;
  }

  if (botOn) {
    const channel = toggle?.channelId ?? settings.channelId ?? defaultChannelId;
    targets.push({
      target: 'bot',
      targetKey: channel,
      action: 'post',
      ...(enabled ? {} : { skipReason: 'event type disabled in settings' }),
    });
    // A part request update that changes the status also edits the request's post.
    if (type === 'part_request_update_created' && event.editsPartRequestId != null && enabled) {
      targets.push({ target: 'bot', targetKey: `edit:part_request:${event.editsPartRequestId}`, action: 'edit' });
    }
  }
  if (hooksOn && enabled) {
    for (const id of webhookEndpointIds) targets.push({ target: 'webhook', targetKey: id, action: 'post' });
  }
  return targets;
}

export interface RouterDeps {
  settings: () => NotifySettings;
  defaultChannelId: string;
  /** Enabled webhook endpoints subscribed to an event type (the legacy module). */
  webhookEndpointsFor: (type: EventType) => Promise<string[]>;
  /**
   * Digest (packages/bot-features): for a bot post to send, the digest key to
   * hold it under (written as a `held` row, not enqueued; the digest flusher
   * sends it), or null to send it now.
   */
  holdForDigest?: WorkerExtension['holdForDigest'];
}

/** Where delivery jobs go. */
export interface EnqueueDeps {
  botQueue: Queue;
  webhookQueue: Queue;
  retry: RetryPolicy;
}

/**
 * Adds delivery jobs for ledger rows just routed: new bot posts in jobs of
 * up to DELIVERY_BATCH_MAX, in the given order (one job, a few statements
 * and one request per post); edits one job each (a PATCH of its own record);
 * webhook deliveries one job each. Job ids derive from the ledger ids, so
 * enqueueing twice is harmless.
 */
export async function enqueueDeliveries(deps: EnqueueDeps, deliveries: readonly RoutedDelivery[]): Promise<void> {
  const posts = deliveries.filter((d) => d.target === 'bot' && d.action === 'post');
  const bot: JobToAdd<typeof JOBS.deliverBot.schema>[] = [];
  for (let i = 0; i < posts.length; i += DELIVERY_BATCH_MAX) {
    const ids = posts.slice(i, i + DELIVERY_BATCH_MAX).map((d) => d.id);
    bot.push({ data: { deliveryIds: ids }, jobId: deliveryBatchJobId(ids[0]!) });
  }
  for (const d of deliveries) if (d.target === 'bot' && d.action !== 'post') bot.push({ data: { deliveryIds: [d.id] }, jobId: deliveryJobId(d.id) });
  const hooks = deliveries.filter((d) => d.target === 'webhook').map((d) => ({ data: { deliveryId: d.id }, jobId: deliveryJobId(d.id) }));
  await enqueue(deps.botQueue, JOBS.deliverBot, bot, { retry: deps.retry });
  await enqueue(deps.webhookQueue, JOBS.deliverWebhook, hooks, { retry: deps.retry });
}

/** An outbox row as the relay claims it. */
export interface ClaimedEvent {
  id: string;
  type: string;
  entity_type: string;
  entity_id: number;
  actor_name: string | null;
  payload: unknown;
  created_at: Date;
}

/** A ledger row just written, to enqueue once the transaction commits. */
export interface RoutedDelivery {
  id: string;
  target: string;
  action: string;
  eventId: string;
}

/**
 * Routes a batch of claimed events inside the relay's transaction: plans each
 * one and writes every ledger row with one INSERT. The relay marks the events published and routed in the same
 * transaction and enqueues the returned deliveries after COMMIT, so no job
 * can run before its row is visible.
 */
export async function routeBatch(
  client: PoolClient,
  deps: RouterDeps,
  events: readonly ClaimedEvent[],
): Promise<RoutedDelivery[]> {
  if (events.length === 0) return [];
  const settings = deps.settings();
  const hooksOn = settings.deliveryMode !== 'bot';
  const endpointsByType = new Map<string, string[]>();
  if (hooksOn) {
    for (const type of new Set(events.map((e) => e.type))) {
      endpointsByType.set(type, isEventType(type) ? await deps.webhookEndpointsFor(type) : []);
    }
  }
  const updateIds = events.filter((e) => e.type === 'part_request_update_created').map((e) => e.entity_id);
  const editsFor = new Map<number, number>();
  if (updateIds.length > 0) {
    const { rows } = await client.query<{ id: number; part_request_id: number }>(
      'SELECT id, part_request_id FROM part_request_updates WHERE id = ANY($1::int[]) AND new_status IS NOT NULL',
      [updateIds],
    );
    for (const r of rows) editsFor.set(r.id, r.part_request_id);
  }

  const planned: NewDelivery[] = [];
  for (const e of events) {
    const routed: EventForRouting = {
      type: e.type,
      entityType: e.entity_type,
      entityId: e.entity_id,
      editsPartRequestId: e.type === 'part_request_update_created' ? (editsFor.get(e.entity_id) ?? null) : null,
    };
    const plan = planTargets(routed, settings, deps.defaultChannelId, endpointsByType.get(e.type) ?? []);
    for (const t of plan) {
      const hold =
        deps.holdForDigest && t.target === 'bot' && t.action === 'post' && !t.skipReason
          ? await deps.holdForDigest(
              {
                id: e.id,
                type: e.type,
                entityType: e.entity_type,
                entityId: e.entity_id,
                actorName: e.actor_name,
                payload: e.payload,
                createdAt: e.created_at,
              } as OutboxEvent,
              t,
            )
          : null;
      planned.push({
        eventId: e.id,
        target: t.target,
        targetKey: t.targetKey,
        action: t.action,
        status: t.skipReason ? 'skipped' : hold ? 'held' : 'pending',
        lastError: t.skipReason ?? null,
        digestKey: hold ?? null,
      });
    }
  }
  const rows = await ledger.create(client, planned);
  return rows.filter((r) => r.status === 'pending').map((r) => ({ id: r.id, target: r.target, action: r.action, eventId: r.eventId }));
}
