/**
 * The fast lane: one `deliver-many` job carries the new bot posts of one
 * relay batch (up to DELIVERY_BATCH_MAX), so a steady stream costs one
 * BullMQ job, a handful of SQL statements and one HTTP request per post,
 * instead of a job and several statements per post.
 *
 * The rule it keeps: every delivery in the job is either posted here, or
 * ends up with a `deliver` job of its own (the single path in bot-delivery,
 * which owns flood batching, edits and retries). So:
 *  - a post whose channel is out of slots (or down to the last slot, which
 *    flood batching takes) is handed to its own job, marked as backlog;
 *  - a post that failed for a transient reason is handed off claimed, so its
 *    own job resends it under the same nonce (never a second message);
 *  - a 429 hands the post off unclaimed (Discord did not create it), delayed
 *    by Retry-After; a permanent failure is written to the ledger at once;
 *  - a row this job finds already claimed (an earlier run of the job was
 *    cut off, or another job holds it) is handed off, and its own job sorts
 *    it out with the ledger and the nonce;
 *  - an edit is handed off (the relay only puts new posts here).
 */
import { type Job, UnrecoverableError } from 'bullmq';
import type { Pool } from 'pg';
import type { REST } from '@discordjs/rest';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { EntityType, EventType, PostSubject } from '@flipfix/events';
import { classifyDiscordError, formatPost, nonceFor, postMessage } from '@flipfix/discord';
import { DeliveryBatchJob, type RetryPolicy } from '@flipfix/queue';
import type { BotDeliveryDeps } from './bot-delivery';

/** A delivery given a `deliver` job of its own. */
export interface HandOff {
  deliveryId: string;
  eventId: string;
  /** Its channel has a backlog: when its turn comes, it leads a flood batch. */
  backlog?: boolean;
  delayMs?: number;
  /** Attempts its own job gets (fewer after a failed first attempt here). */
  attempts?: number;
}

export interface FastLaneDeps
  extends Pick<
    BotDeliveryDeps,
    'prisma' | 'rest' | 'botToken' | 'limiter' | 'settings' | 'baseUrl' | 'records' | 'log' | 'metrics' | 'afterPost' | 'resolveChannel' | 'batching'
  > {
  pool: Pool;
  retry: RetryPolicy;
  handOff: (items: readonly HandOff[]) => Promise<void>;
  /**
   * Clients to spread posts over, round robin (default: `rest` alone). One
   * client sends a channel's posts one at a time; several keep several in flight.
   */
  posters?: readonly REST[];
  /**
   * Most `deliver-many` jobs working at once in this process (default 4);
   * the others wait before loading anything. Posts beyond what the clients
   * can have in flight would only wait in memory, holding their claims.
   */
  maxConcurrentJobs?: number;
}

/** What one `deliver-many` run did, for logs, the dashboard and tests. */
export interface FastLaneResult {
  delivered: number;
  handedOff: number;
  skipped: number;
  failed: number;
}

interface LedgerRow {
  id: string;
  event_id: string;
  target: string;
  target_key: string;
  action: string;
  status: string;
  batch_id: string | null;
  type: string;
  entity_type: string;
  entity_id: number;
  event_created_at: Date;
}

interface Ready {
  row: LedgerRow;
  subject: PostSubject;
  channelId: string;
  slot: string | null;
  body: RESTPostAPIChannelMessageJSONBody;
}

/** The processor for `deliver-many` jobs. */
export function createFastLane(deps: FastLaneDeps) {
  const posters = deps.posters?.length ? deps.posters : [deps.rest];
  let turn = 0;
  const nextPoster = () => posters[turn++ % posters.length]!;
  const setToken = () => {
    for (const client of posters) client.setToken(deps.botToken);
  };
  const working = new Semaphore(deps.maxConcurrentJobs ?? 4);
  return async (job: Job): Promise<FastLaneResult> => {
    const parsed = DeliveryBatchJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    const result: FastLaneResult = { delivered: 0, handedOff: 0, skipped: 0, failed: 0 };
    const handOffs: HandOff[] = [];
    await working.acquire();
    try {
      await run(deps, { nextPoster, setToken }, parsed.data.deliveryIds, result, handOffs);
    } finally {
      working.release();
      // Hand-offs decided before an error are still given their jobs; the
      // rest are found again when BullMQ retries this job.
      if (handOffs.length > 0) await deps.handOff(handOffs);
      result.handedOff = handOffs.length;
    }
    return result;
  };
}

async function run(
  deps: FastLaneDeps,
  rest: { nextPoster: () => REST; setToken: () => void },
  ids: readonly string[],
  result: FastLaneResult,
  handOffs: HandOff[],
): Promise<void> {
  const { rows } = await deps.pool.query<LedgerRow>(
    `SELECT d.id, d.event_id, d.target, d.target_key, d.action, d.status, d.batch_id,
            e.type, e.entity_type, e.entity_id, e.created_at AS event_created_at
       FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
      WHERE d.id = ANY($1::uuid[])
      ORDER BY e.seq`,
    [ids],
  );
  const fresh: LedgerRow[] = [];
  for (const r of rows) {
    // Delivered, skipped, failed or held: nothing to do here.
    if (r.status !== 'pending' && r.status !== 'sending') continue;
    // Only bot deliveries are routed here; anything else has a queue of its own.
    if (r.target !== 'bot') continue;
    if (r.action === 'post' && r.status === 'pending' && r.batch_id === null) fresh.push(r);
    else handOffs.push({ deliveryId: r.id, eventId: r.event_id });
  }
  if (fresh.length === 0) return;

  const subjects = await deps.records.loadPostSubjects(
    fresh.map((r) => ({ type: r.type as EventType, entityType: r.entity_type as EntityType, entityId: r.entity_id })),
  );
  const gone = fresh.filter((_, i) => subjects[i] === null).map((r) => r.id);
  if (gone.length > 0) {
    const skipped = await deps.pool.query(
      `UPDATE deliveries SET status = 'skipped', last_error = 'the record no longer exists', updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'pending' AND batch_id IS NULL`,
      [gone],
    );
    result.skipped += skipped.rowCount ?? 0;
  }

  const settings = deps.settings();
  const roleMention = settings.unplayableRoleId ? { roleId: settings.unplayableRoleId } : null;
  const candidates: { row: LedgerRow; subject: PostSubject; channelId: string }[] = [];
  for (const [i, row] of fresh.entries()) {
    const subject = subjects[i];
    if (!subject) continue;
    let channelId = row.target_key;
    if (deps.resolveChannel) {
      try {
        channelId = await deps.resolveChannel(subject, row.target_key);
      } catch {
        // Its own job runs this again and handles the failure (retry or not).
        handOffs.push({ deliveryId: row.id, eventId: row.event_id });
        continue;
      }
    }
    candidates.push({ row, subject, channelId });
  }
  // One slot per post, asked for all at once (Redis answers them in order).
  const slots = await Promise.all(candidates.map((c) => deps.limiter.reserveSlot(c.channelId)));
  // Channels out of slots for now: the rest of their posts go to their own jobs.
  const saturated = new Set<string>();
  const ready: Ready[] = [];
  const unused: Promise<void>[] = [];
  for (const [i, { row, subject, channelId }] of candidates.entries()) {
    const { waitMs, remaining, slot } = slots[i]!;
    // The window's last slot goes to a flood batch leader (the single path),
    // as it does when a post's own job takes it.
    const floodBatching = deps.batching !== false && !settings.threadsEnabled && channelId === row.target_key;
    if (saturated.has(channelId) || waitMs > 0 || (remaining === 0 && floodBatching)) {
      if (waitMs > 0) deps.metrics.rateLimitWaits.inc();
      unused.push(deps.limiter.release(channelId, slot));
      saturated.add(channelId);
      handOffs.push({ deliveryId: row.id, eventId: row.event_id, backlog: true });
      continue;
    }
    ready.push({ row, subject, channelId, slot, body: formatPost(subject, { baseUrl: deps.baseUrl, mode: 'bot', roleMention }) });
  }
  await Promise.all(unused);
  if (ready.length === 0) return;

  // The same once-only claim as a single post (batch_id = its own id), for all at once.
  const claimed = await deps.pool.query<{ id: string }>(
    `UPDATE deliveries SET batch_id = id, status = 'sending', attempts = attempts + 1,
            first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
      WHERE id = ANY($1::uuid[]) AND status = 'pending' AND batch_id IS NULL
      RETURNING id`,
    [ready.map((p) => p.row.id)],
  );
  const mine = new Set(claimed.rows.map((r) => r.id));
  const sending: Ready[] = [];
  for (const p of ready) {
    if (mine.has(p.row.id)) sending.push(p);
    // Taken by another job in the meantime: that job posts it.
    else await deps.limiter.release(p.channelId, p.slot);
  }

  const outcomes = await Promise.all(
    sending.map(async (p) => {
      const started = Date.now();
      try {
        const message = await postMessage(rest.nextPoster(), p.channelId, p.body, { nonce: nonceFor(p.row.id) });
        return { p, messageId: message.id, callMs: Date.now() - started, err: null };
      } catch (err) {
        return { p, messageId: null, callMs: Date.now() - started, err };
      } finally {
        await deps.limiter.settle(p.channelId, p.slot).catch(() => undefined);
      }
    }),
  );

  const posted = outcomes.filter((o) => o.messageId !== null);
  if (posted.length > 0) {
    await deps.pool.query(
      `UPDATE deliveries d
          SET status = 'delivered', discord_channel_id = u.channel_id, discord_message_id = u.message_id,
              embed_index = 0, batch_id = NULL, payload = u.payload, last_error = NULL, error_class = NULL,
              delivered_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) AS u(id, channel_id, message_id, payload)
        WHERE d.id = u.id`,
      [posted.map((o) => o.p.row.id), posted.map((o) => o.p.channelId), posted.map((o) => o.messageId), posted.map((o) => JSON.stringify(o.p.body))],
    );
    result.delivered += posted.length;
    for (const o of posted) {
      deps.metrics.observeDelivered('bot', o.p.row.event_created_at, o.callMs);
      deps.log.info(
        { deliveryId: o.p.row.id, eventId: o.p.row.event_id, type: o.p.row.type, channelId: o.p.channelId, messageId: o.messageId },
        'posted to discord',
      );
    }
    if (deps.afterPost) {
      const afterPost = deps.afterPost;
      await Promise.all(
        posted.map((o) =>
          afterPost({
            deliveryId: o.p.row.id,
            eventType: o.p.row.type as EventType,
            subject: o.p.subject,
            channelId: o.p.channelId,
            messageId: o.messageId!,
          }).catch((err) => deps.log.warn({ err, deliveryId: o.p.row.id }, 'post-delivery step failed')),
        ),
      );
    }
  }

  for (const o of outcomes) {
    if (o.messageId !== null) continue;
    const { row, channelId } = o.p;
    const c = classifyDiscordError(o.err);
    const log = deps.log.child({ deliveryId: row.id, eventId: row.event_id, type: row.type });
    if (c.kind === 'rate_limited') {
      // Discord did not create the message: the post goes back unclaimed,
      // so its own job can lead (or join) a flood batch.
      deps.metrics.discord429.inc();
      await deps.limiter.block(c.global ? 'global' : channelId, c.retryAfterMs);
      await deps.pool.query(
        `UPDATE deliveries SET status = 'pending', batch_id = NULL, last_error = $2, error_class = 'rate_limited', updated_at = now()
          WHERE id = $1::uuid`,
        [row.id, `rate limited by Discord, retrying in ${Math.ceil(c.retryAfterMs)} ms`],
      );
      log.warn({ retryAfterMs: c.retryAfterMs, global: c.global }, 'rate limited by discord');
      handOffs.push({ deliveryId: row.id, eventId: row.event_id, backlog: true, delayMs: c.retryAfterMs });
    } else if (c.kind === 'permanent') {
      // @discordjs/rest forgets its token after a 401.
      if (c.target === 'token') rest.setToken();
      await deps.pool.query(
        `UPDATE deliveries SET status = 'failed', last_error = $2, error_class = $3, updated_at = now() WHERE id = $1::uuid`,
        [row.id, c.reason, `permanent:${c.target}`],
      );
      result.failed += 1;
      deps.metrics.deliveryOutcome.inc({ target: 'bot', outcome: 'failed' });
      log.error({ reason: c.reason, code: c.code, status: c.status }, 'delivery failed permanently');
    } else if (deps.retry.attempts <= 1) {
      await deps.pool.query(
        `UPDATE deliveries SET status = 'failed', last_error = $2, error_class = 'transient', updated_at = now() WHERE id = $1::uuid`,
        [row.id, c.reason],
      );
      result.failed += 1;
      deps.metrics.deliveryOutcome.inc({ target: 'bot', outcome: 'failed' });
      log.warn({ reason: c.reason, attempt: 1, of: 1 }, 'delivery failed after retries');
    } else {
      // The request may have reached Discord: the claim stays, and the
      // post's own job resends it under the same nonce after the first backoff.
      await deps.pool.query(
        `UPDATE deliveries SET status = 'pending', last_error = $2, error_class = 'transient', updated_at = now() WHERE id = $1::uuid`,
        [row.id, c.reason],
      );
      log.warn({ reason: c.reason, attempt: 1, of: deps.retry.attempts }, 'delivery failed; will retry');
      handOffs.push({
        deliveryId: row.id,
        eventId: row.event_id,
        delayMs: firstBackoffMs(deps.retry),
        attempts: Math.max(1, deps.retry.attempts - 1),
      });
    }
  }
}

/** The delay BullMQ's exponential backoff gives a first retry, jitter included. */
export function firstBackoffMs(retry: RetryPolicy): number {
  return Math.round(retry.backoffMs * (1 - retry.jitter * Math.random()));
}

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
    this.#free = size;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}
