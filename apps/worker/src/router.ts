/**
 * The router: turns one outbox event into one delivery per target, following
 * the settings in effect when the event is routed (per-event toggle, channel,
 * delivery mode). Each delivery is a ledger row (unique per event and target)
 * and a BullMQ job whose id is the delivery id, so routing twice is harmless.
 */
import type { Queue } from 'bullmq';
import { isEventType, type EventType } from '@flipfix/events';
import type { NotifySettings, OutboxEvent, PrismaClient } from '@flipfix/db';
import { DELIVERY_BATCH_MAX, JOBS, type RetryPolicy, deliveryBatchJobId, deliveryJobId } from '@flipfix/queue';

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
  prisma: PrismaClient;
  settings: () => NotifySettings;
  defaultChannelId: string;
  botQueue: Queue;
  webhookQueue: Queue | null;
  /** Enabled webhook endpoints subscribed to an event type (the legacy module). */
  webhookEndpointsFor: (type: EventType) => Promise<string[]>;
  retry: RetryPolicy;
  /**
   * Digest (packages/bot-features): for a bot post to send, the digest key to
   * hold it under (written as a `held` row, not enqueued; the digest flusher
   * sends it), or null to send it now. Called once per event, on first routing.
   */
  holdForDigest?: (event: OutboxEvent, target: PlannedTarget) => Promise<string | null>;
}

/** Routes one event: writes its ledger rows and enqueues what is still to send. */
export async function routeEvent(deps: RouterDeps, eventId: string): Promise<{ enqueued: number; skipped: number }> {
  const event = await deps.prisma.outboxEvent.findUnique({ where: { id: eventId } });
  if (!event) return { enqueued: 0, skipped: 0 };

  if (!event.routedAt) {
    const settings = deps.settings();
    const hooksOn = settings.deliveryMode !== 'bot';
    const endpoints = hooksOn && isEventType(event.type) ? await deps.webhookEndpointsFor(event.type) : [];
    let editsPartRequestId: number | null = null;
    if (event.type === 'part_request_update_created') {
      const update = await deps.prisma.partRequestUpdate.findUnique({
        where: { id: event.entityId },
        select: { partRequestId: true, newStatus: true },
      });
      if (update?.newStatus) editsPartRequestId = update.partRequestId;
    }
    const plan = planTargets({ ...event, editsPartRequestId }, settings, deps.defaultChannelId, endpoints);
    const holds = await Promise.all(
      plan.map((t) => (deps.holdForDigest && t.target === 'bot' && t.action === 'post' && !t.skipReason ? deps.holdForDigest(event, t) : null)),
    );
    await deps.prisma.$transaction([
      deps.prisma.delivery.createMany({
        data: plan.map((t, i) => ({
          eventId: event.id,
          target: t.target,
          targetKey: t.targetKey,
          action: t.action,
          status: t.skipReason ? ('skipped' as const) : holds[i] ? ('held' as const) : ('pending' as const),
          lastError: t.skipReason ?? null,
          digestKey: holds[i] ?? null,
        })),
        skipDuplicates: true,
      }),
      deps.prisma.outboxEvent.update({ where: { id: event.id }, data: { routedAt: new Date() } }),
    ]);
  }

  // Enqueue every unfinished delivery of the event (again, after a crash: job ids dedupe).
  const open = await deps.prisma.delivery.findMany({
    where: { eventId: event.id, status: { in: ['pending', 'sending'] } },
    select: { id: true, target: true, action: true },
  });
  const skipped = await deps.prisma.delivery.count({ where: { eventId: event.id, status: 'skipped' } });
  await enqueueDeliveries(deps, open.map((d) => ({ id: d.id, target: d.target, action: d.action, eventId: event.id })));
  return { enqueued: open.length, skipped };
}

/**
 * Adds delivery jobs to the right queue: new bot posts in `deliver-many` jobs
 * of up to DELIVERY_BATCH_MAX (the fast lane), in the given order; edits and
 * webhook deliveries one job each (job id = delivery id).
 */
export async function enqueueDeliveries(
  deps: Pick<RouterDeps, 'botQueue' | 'webhookQueue' | 'retry'>,
  deliveries: readonly RoutedDelivery[],
): Promise<void> {
  const opts = JOBS.deliver.options(deps.retry);
  const posts = deliveries.filter((d) => d.target === 'bot' && d.action === 'post');
  const bot = deliveries.filter((d) => d.target === 'bot' && d.action !== 'post');
  const many = [];
  for (let i = 0; i < posts.length; i += DELIVERY_BATCH_MAX) {
    const ids = posts.slice(i, i + DELIVERY_BATCH_MAX).map((d) => d.id);
    many.push({ name: JOBS.deliverMany.name, data: { deliveryIds: ids }, opts: { ...JOBS.deliverMany.options(deps.retry), jobId: deliveryBatchJobId(ids[0]!) } });
  }
  if (many.length) await deps.botQueue.addBulk(many);
  const hooks = deliveries.filter((d) => d.target === 'webhook');
  const toJob = (d: { id: string; eventId: string }) => ({
    name: JOBS.deliver.name,
    data: { deliveryId: d.id, eventId: d.eventId },
    opts: { ...opts, jobId: deliveryJobId(d.id) },
  });
  if (bot.length) await deps.botQueue.addBulk(bot.map(toJob));
  if (hooks.length && deps.webhookQueue) await deps.webhookQueue.addBulk(hooks.map(toJob));
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
 * one (as {@link routeEvent} does) and writes every ledger row with one
 * INSERT. The relay marks the events published and routed in the same
 * transaction and enqueues the returned deliveries after COMMIT, so no job
 * can run before its row is visible.
 */
export async function routeBatch(
  client: import('pg').PoolClient,
  deps: Omit<RouterDeps, 'botQueue' | 'webhookQueue' | 'retry'>,
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

  const cols = { event: [] as string[], target: [] as string[], key: [] as string[], action: [] as string[], status: [] as string[], error: [] as (string | null)[], digest: [] as (string | null)[] };
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
              } as Parameters<NonNullable<RouterDeps['holdForDigest']>>[0],
              t,
            )
          : null;
      cols.event.push(e.id);
      cols.target.push(t.target);
      cols.key.push(t.targetKey);
      cols.action.push(t.action);
      cols.status.push(t.skipReason ? 'skipped' : hold ? 'held' : 'pending');
      cols.error.push(t.skipReason ?? null);
      cols.digest.push(hold ?? null);
    }
  }
  const { rows } =
    cols.event.length === 0
      ? { rows: [] as { id: string; target: string; action: string; event_id: string; status: string }[] }
      : await client.query<{ id: string; target: string; action: string; event_id: string; status: string }>(
          `INSERT INTO deliveries (event_id, target, target_key, action, status, last_error, digest_key)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::"DeliveryStatus"[], $6::text[], $7::text[])
           ON CONFLICT (event_id, target, target_key) DO NOTHING
           RETURNING id, target, action, event_id, status`,
          [cols.event, cols.target, cols.key, cols.action, cols.status, cols.error, cols.digest],
        );
  return rows.filter((r) => r.status === 'pending').map((r) => ({ id: r.id, target: r.target, action: r.action, eventId: r.event_id }));
}
