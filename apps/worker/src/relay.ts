/**
 * The outbox relay: moves committed outbox rows into the delivery queues.
 *
 * Rows are claimed by status with FOR UPDATE SKIP LOCKED, never by "id greater
 * than the last one seen": transactions commit out of order, so a cursor would
 * skip a row that committed late. Any number of relays (one per worker
 * process) cooperate safely. Each claimed batch is routed in the claim's
 * transaction (ledger rows written, events marked published and routed); the
 * delivery jobs, whose ids are the ledger ids, are added after COMMIT.
 */
import type { Pool, PoolClient } from 'pg';
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
}


export class OutboxRelay {
  readonly #o: Required<RelayOptions>;
  #listener: PoolClient | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  /** Events published by this relay since start. */
  published = 0;

  constructor(options: RelayOptions) {
    this.#o = { batchSize: 500, pollMs: 1000, ...options };
  }

  async start(): Promise<void> {
    await this.#listen();
    this.#timer = setInterval(() => {
      if (!this.#listener) void this.#listen();
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
      const own = client;
      client.on('notification', () => this.kick());
      client.on('error', (err) => {
        // pg can report one lost connection twice, and close() releases the listener it takes:
        // only the listener still in place is released here, once.
        if (this.#listener !== own) return;
        this.#o.log.warn({ err }, 'outbox listener lost; polling until it is back');
        this.#listener = null;
        own.release(true);
      });
      await client.query('LISTEN flipfix_outbox');
      this.#listener = client;
    } catch (err) {
      client?.release(true);
      this.#o.log.warn({ err }, 'outbox LISTEN failed; polling');
    }
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
