/**
 * The delivery ledger as a state machine: the only code that writes a
 * delivery's `status`. Every transition is named, set-based (one statement
 * for any number of rows) and conditional on the states it may start from,
 * so a row in any other state is left alone and not returned: two workers
 * racing for one row cannot both move it, and a late answer cannot undo a
 * finished delivery.
 *
 *     (insert) ─► pending ─claim/resend─► sending ─delivered─► delivered
 *                 │  ▲                     │  │                  │
 *                 │  └──────retryLater─────┘  └─failed/skipped─┐ │ redeliver(force)
 *                 │                                      ▼ ▼
 *     (insert) ─► held ─release─► pending          failed/skipped ─redeliver─► pending
 *
 * `held` rows (a digest) go straight to `delivered`, `failed` or `skipped`
 * when their digest is posted. The statements are raw SQL on the pg pool:
 * the fast path settles a batch of posts with one statement per outcome.
 */
import type { Pool, PoolClient } from 'pg';

/** A delivery's state. */
export type LedgerStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'skipped' | 'held';

/** Every state, in the order the console lists them. */
export const LEDGER_STATUSES: readonly LedgerStatus[] = ['pending', 'sending', 'delivered', 'failed', 'skipped', 'held'];

/** The allowed transitions: the states each one starts from and the state it leads to. */
export const TRANSITIONS = {
  /** A worker takes the rows to send them (counts an attempt, sets `batch_id`). */
  claim: { from: ['pending', 'sending'], to: 'sending' },
  /** Claimed rows sent again (a retry of the same batch, or a batch just formed): counts an attempt. */
  resend: { from: ['pending', 'sending'], to: 'sending' },
  /** Discord created (or edited) the message. */
  delivered: { from: ['sending', 'held'], to: 'delivered' },
  /** Nothing more will be tried (a permanent failure, or the last attempt). */
  failed: { from: ['pending', 'sending', 'held'], to: 'failed' },
  /** Nothing will be sent, on purpose (the record is gone, no post to edit…). */
  skipped: { from: ['pending', 'sending', 'held'], to: 'skipped' },
  /** Back to pending to be tried again, keeping the claim (same batch, same nonce) or not. */
  retryLater: { from: ['sending', 'pending'], to: 'pending' },
  /** A digest of one post: sent as the post itself. */
  release: { from: ['held'], to: 'pending' },
  /** An admin asked again: failed or skipped rows (and, forced, delivered ones). */
  redeliver: { from: ['failed', 'skipped'], to: 'pending' },
  /** Redelivery of a delivered post: a new message under a new nonce. */
  redeliverForced: { from: ['failed', 'skipped', 'delivered'], to: 'pending' },
} as const satisfies Record<string, { from: readonly LedgerStatus[]; to: LedgerStatus }>;

/** A transition's name. */
export type TransitionName = keyof typeof TRANSITIONS;

/** Anything that runs a pg query: the pool or a client inside a transaction. */
export type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

/** A row that Discord accepted, with where its embed landed. */
export interface DeliveredRow {
  id: string;
  channelId: string;
  messageId: string;
  /** Index of the row's first embed in the message (0 when alone). */
  embedIndex: number;
  /** The flood batch leader whose message carries it; null for a post on its own. */
  batchId: string | null;
  /** The body sent (the row's own part of a packed message), for the parity report. */
  payload: unknown;
}

/** A ledger row as it is created by routing. */
export interface NewDelivery {
  eventId: string;
  target: string;
  targetKey: string;
  action: string;
  status: 'pending' | 'skipped' | 'held';
  lastError: string | null;
  digestKey: string | null;
}

/** A ledger row as the router gets it back. */
export interface CreatedDelivery {
  id: string;
  eventId: string;
  target: string;
  action: string;
  status: LedgerStatus;
}

const ids = (list: readonly string[]) => [...new Set(list)];
const fromOf = (name: TransitionName): string[] => [...TRANSITIONS[name].from];

async function moved(db: Queryable, sql: string, values: unknown[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(sql, values);
  return rows.map((r) => r.id);
}

/**
 * The ledger's transitions. Each returns the ids it moved; ids in a state
 * the transition does not start from are refused (left as they were).
 */
export const ledger = {
  /** Writes the rows one routing pass planned, once (unique per event and target). */
  async create(db: Queryable, rows: readonly NewDelivery[]): Promise<CreatedDelivery[]> {
    if (rows.length === 0) return [];
    const { rows: created } = await db.query<{ id: string; event_id: string; target: string; action: string; status: LedgerStatus }>(
      `INSERT INTO deliveries (event_id, target, target_key, action, status, last_error, digest_key)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::"DeliveryStatus"[], $6::text[], $7::text[])
       ON CONFLICT (event_id, target, target_key) DO NOTHING
       RETURNING id, event_id, target, action, status`,
      [
        rows.map((r) => r.eventId),
        rows.map((r) => r.target),
        rows.map((r) => r.targetKey),
        rows.map((r) => r.action),
        rows.map((r) => r.status),
        rows.map((r) => r.lastError),
        rows.map((r) => r.digestKey),
      ],
    );
    return created.map((r) => ({ id: r.id, eventId: r.event_id, target: r.target, action: r.action, status: r.status }));
  },

  /**
   * Claims unclaimed rows for sending, each as its own batch (`batch_id` =
   * its id), counting an attempt. A row is claimed once: a second job (or a
   * flood batch leader) finds `batch_id` set and gets nothing.
   */
  claim(db: Queryable, deliveryIds: readonly string[]): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'sending', batch_id = id, attempts = attempts + 1,
              first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($2::"DeliveryStatus"[]) AND batch_id IS NULL
        RETURNING id`,
      [ids(deliveryIds), fromOf('claim')],
    );
  },

  /**
   * Claims a flood batch: the leader (unless another batch holds it), then
   * up to `limit - 1` of the oldest unclaimed pending posts to the same
   * channel, skipping rows another transaction holds. Run it inside a
   * transaction (`client`), so the leader and its members are claimed together.
   * Returns the batch's members in event order (empty when the leader was taken).
   */
  async claimBatch(client: Queryable, leaderId: string, targetKey: string, limit: number): Promise<string[]> {
    const leader = await moved(
      client,
      `UPDATE deliveries SET status = 'sending', batch_id = id, updated_at = now()
        WHERE id = $1::uuid AND status = ANY($2::"DeliveryStatus"[]) AND batch_id IS NULL
        RETURNING id`,
      [leaderId, fromOf('claim')],
    );
    if (leader.length === 0) return [];
    if (limit > 1) {
      await client.query(
        `UPDATE deliveries SET batch_id = $1::uuid, status = 'sending', updated_at = now()
          WHERE id IN (
            SELECT d.id FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
             WHERE d.target = 'bot' AND d.action = 'post' AND d.target_key = $2
               AND d.status = 'pending' AND d.batch_id IS NULL AND d.id <> $1::uuid
             ORDER BY e.seq LIMIT $3
             FOR UPDATE OF d SKIP LOCKED)`,
        [leaderId, targetKey, limit - 1],
      );
    }
    return ledger.batchMembers(client, leaderId);
  },

  /** The open members of a leader's batch, in event order. */
  async batchMembers(db: Queryable, leaderId: string): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT d.id FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
        WHERE d.batch_id = $1::uuid AND d.status IN ('pending', 'sending') ORDER BY e.seq`,
      [leaderId],
    );
    return rows.map((r) => r.id);
  },

  /**
   * Sends claimed rows again (a retried batch or post, exactly as claimed,
   * under the same nonce; or a flood batch just formed), counting an attempt.
   */
  resend(db: Queryable, deliveryIds: readonly string[]): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'sending', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($2::"DeliveryStatus"[]) AND batch_id IS NOT NULL RETURNING id`,
      [ids(deliveryIds), fromOf('resend')],
    );
  },

  /**
   * Claims held rows for one digest message (`digest_batch` = `batchId`, its
   * oldest row's id); they stay held until it is posted. A row already in a
   * digest batch is left out.
   */
  async claimDigest(db: Queryable, deliveryIds: readonly string[], batchId: string): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET digest_batch = $2::uuid, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'held' AND digest_batch IS NULL RETURNING id`,
      [ids(deliveryIds), batchId],
    );
  },

  /** Counts an attempt at posting held rows (a digest); they stay held until it is posted. */
  async countDigestAttempt(db: Queryable, deliveryIds: readonly string[]): Promise<void> {
    await db.query(
      `UPDATE deliveries SET attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'held'`,
      [ids(deliveryIds)],
    );
  },

  /** Records messages Discord created or edited, one statement for any number of rows. */
  delivered(db: Queryable, rows: readonly DeliveredRow[]): Promise<string[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return moved(
      db,
      `UPDATE deliveries d
          SET status = 'delivered', discord_channel_id = u.channel_id, discord_message_id = u.message_id,
              embed_index = u.embed_index, batch_id = u.batch_id, payload = u.payload, last_error = NULL,
              error_class = NULL, attempts = greatest(d.attempts, 1), delivered_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::uuid[], $6::jsonb[])
              AS u(id, channel_id, message_id, embed_index, batch_id, payload)
        WHERE d.id = u.id AND d.status = ANY($7::"DeliveryStatus"[])
        RETURNING d.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.channelId),
        rows.map((r) => r.messageId),
        rows.map((r) => r.embedIndex),
        rows.map((r) => r.batchId),
        rows.map((r) => JSON.stringify(r.payload ?? null)),
        fromOf('delivered'),
      ],
    );
  },

  /** Marks rows failed for good, with the human reason and the failure class. */
  failed(db: Queryable, deliveryIds: readonly string[], reason: string, errorClass: string): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'failed', last_error = $2, error_class = $3, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($4::"DeliveryStatus"[]) RETURNING id`,
      [ids(deliveryIds), reason, errorClass, fromOf('failed')],
    );
  },

  /** Marks rows skipped: nothing will be sent, for the reason given. */
  skipped(db: Queryable, deliveryIds: readonly string[], reason: string): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'skipped', last_error = $2, error_class = NULL, batch_id = NULL, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($3::"DeliveryStatus"[]) RETURNING id`,
      [ids(deliveryIds), reason, fromOf('skipped')],
    );
  },

  /**
   * Back to pending, to be tried again. `keepClaim` after a failure that may
   * have reached Discord (the same batch is resent under the same nonce);
   * without it after one that certainly did not (a 429, a wait for a slot),
   * so the rows may join another batch.
   */
  retryLater(
    db: Queryable,
    deliveryIds: readonly string[],
    options: { keepClaim: boolean; reason?: string | null; errorClass?: string | null },
  ): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'pending', batch_id = CASE WHEN $2 THEN batch_id ELSE NULL END,
              last_error = coalesce($3, last_error), error_class = coalesce($4, error_class), updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($5::"DeliveryStatus"[]) RETURNING id`,
      [ids(deliveryIds), options.keepClaim, options.reason ?? null, options.errorClass ?? null, fromOf('retryLater')],
    );
  },

  /** A held post leaves its digest and is sent as itself. */
  release(db: Queryable, deliveryIds: readonly string[]): Promise<string[]> {
    return moved(
      db,
      `UPDATE deliveries SET status = 'pending', digest_key = NULL, digest_batch = NULL, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = ANY($2::"DeliveryStatus"[]) RETURNING id`,
      [ids(deliveryIds), fromOf('release')],
    );
  },

  /**
   * An admin's redelivery: back to pending outside any batch, with a note.
   * `force` also takes delivered rows and starts a new send generation, so
   * the post goes out under a new nonce as a new message (Discord answers a
   * known nonce with the message it already created).
   */
  redeliver(db: Queryable, deliveryId: string, note: string, options: { force?: boolean } = {}): Promise<string[]> {
    const name: TransitionName = options.force ? 'redeliverForced' : 'redeliver';
    return moved(
      db,
      `UPDATE deliveries SET status = 'pending', batch_id = NULL, last_error = $2, error_class = NULL,
              send_generation = send_generation + CASE WHEN status = 'delivered' THEN 1 ELSE 0 END, updated_at = now()
        WHERE id = $1::uuid AND status = ANY($3::"DeliveryStatus"[]) RETURNING id`,
      [deliveryId, note.slice(0, 1000), fromOf(name)],
    );
  },
};

/**
 * The key a delivery's Discord nonce is derived from: the id, and after a
 * forced redelivery the id and its send generation, so every attempt of one
 * send shares a nonce and a new send gets a new one.
 */
export function nonceKeyOf(delivery: { id: string; sendGeneration: number }): string {
  return delivery.sendGeneration === 0 ? delivery.id : `${delivery.id}#${delivery.sendGeneration}`;
}
