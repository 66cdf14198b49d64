/**
 * The outbox relay: moves committed outbox rows into the delivery queues.
 *
 * Rows are claimed by status with FOR UPDATE SKIP LOCKED, never by "id greater
 * than the last one seen": transactions commit out of order, so a cursor would
 * skip a row that committed late. Any number of relays (one per worker
 * process) cooperate safely. Each claimed batch is routed in the claim's
 * transaction (ledger rows written, events marked published and routed); the
 * delivery jobs, whose ids are the ledger ids, are added after COMMIT.
 *
 * LISTEN wakes the relay within milliseconds of a commit; the poll is the
 * backstop. Behind PgBouncer in transaction pooling mode LISTEN "succeeds"
 * but no notification ever arrives, so after LISTEN the relay sends itself a
 * probe NOTIFY: if it does not come back, the relay says so once and lives on
 * the poll alone (latency bounded by `pollMs`).
 */
import type { Pool, PoolClient } from 'pg';
import { notificationsArrive } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';
import type { ClaimedEvent, RoutedDelivery } from './router';

export interface RelayOptions {
  pool: Pool;
  log: Logger;
  batchSize?: number;
  /** Backstop poll interval, for NOTIFYs lost while the listener was down. */
  pollMs?: number;
  /**
   * Routes the claimed events inside the claim's transaction (ledger rows
   * written, events marked routed) and returns the deliveries to enqueue.
   */
  route: (client: PoolClient, events: ClaimedEvent[]) => Promise<RoutedDelivery[]>;
  /** Enqueues the routed deliveries, after COMMIT. */
  enqueue: (deliveries: RoutedDelivery[]) => Promise<void>;
  /** How long the LISTEN probe waits for its own NOTIFY. Default 2000 ms. */
  listenProbeMs?: number;
}

/**
 * How the relay learns of new outbox rows: `listen` (NOTIFY, with the poll
 * as a backstop), `poll` (LISTEN cannot work on this connection, e.g.
 * PgBouncer in transaction mode), or `pending` (not known yet, or the
 * listener connection is being re-established).
 */
export type RelayWakeMode = 'listen' | 'poll' | 'pending';


export class OutboxRelay {
  readonly #o: Required<RelayOptions>;
  #listener: PoolClient | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #mode: RelayWakeMode = 'pending';
  /** Events published by this relay since start. */
  published = 0;

  constructor(options: RelayOptions) {
    this.#o = { batchSize: 500, pollMs: 1000, listenProbeMs: 2000, ...options };
  }

  /** How new rows reach the relay now (see {@link RelayWakeMode}). */
  get wakeMode(): RelayWakeMode {
    return this.#mode;
  }

  async start(): Promise<void> {
    await this.#listen();
    this.#timer = setInterval(() => {
      if (!this.#listener && this.#mode !== 'poll') void this.#listen();
      this.kick();
    }, this.#o.pollMs);
    this.#timer.unref();
    this.kick();
  }

  /** Drains the outbox now; calls during a drain schedule one more pass. */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#again && !this.#closed) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Resolves when the current drain (if any) has finished. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const n = await this.#claimBatch();
        if (n < this.#o.batchSize || this.#closed) return;
      }
    } catch (err) {
      this.#o.log.warn({ err }, 'outbox relay pass failed; will retry');
    }
  }

  async #claimBatch(): Promise<number> {
    const client = await this.#o.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<ClaimedEvent>(
        `SELECT id, type, entity_type, entity_id, actor_name, payload, created_at FROM outbox_events
          WHERE status = 'pending'
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.#o.batchSize],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const routed = await this.#o.route(client, rows);
      await client.query(
        `UPDATE outbox_events SET status = 'published', published_at = now(), routed_at = now(), attempts = attempts + 1
          WHERE id = ANY($1::uuid[])`,
        [rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      // After COMMIT, so no delivery job runs before its ledger row is visible.
      // A crash right here leaves the rows pending: the reconciler enqueues them.
      if (routed.length > 0) await this.#o.enqueue(routed);
      this.published += rows.length;
      this.#o.log.debug({ count: rows.length }, 'outbox events published');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async #listen(): Promise<void> {
    if (this.#closed || this.#listener) return;
    let client: PoolClient | undefined;
    try {
      client = await this.#o.pool.connect();
      const listener = client;
      listener.on('notification', () => this.kick());
      listener.on('error', (err) => {
        if (this.#listener !== listener) return;
        this.#o.log.warn({ err }, 'outbox listener lost; polling until it is back');
        this.#listener = null;
        this.#mode = 'pending';
        listener.release(true);
      });
      await listener.query('LISTEN flipfix_outbox');
      this.#listener = listener;
      // Not awaited: start() need not wait out the probe's timeout.
      void this.#probe(listener);
    } catch (err) {
      if (client && this.#listener !== client) client.release(true);
      this.#o.log.warn({ err }, 'outbox LISTEN failed; polling');
    }
  }

  async #probe(client: PoolClient): Promise<void> {
    const works = await notificationsArrive(client, this.#o.pool, this.#o.listenProbeMs).catch(() => null);
    // null: the connection failed mid-probe; its error handler re-LISTENs on the next tick.
    if (works === null || this.#closed || this.#listener !== client) return;
    if (works) {
      this.#mode = 'listen';
      return;
    }
    this.#mode = 'poll';
    this.#o.log.warn(
      { pollMs: this.#o.pollMs },
      'outbox LISTEN unavailable (a pooler in transaction mode?): notifications do not arrive; polling the outbox instead',
    );
    this.#listener = null;
    // Closed rather than pooled: the server session behind it may still hold the LISTEN.
    client.release(true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.idle();
    const l = this.#listener;
    this.#listener = null;
    if (l) {
      await l.query('UNLISTEN *').catch(() => undefined);
      l.release();
    }
  }
}
