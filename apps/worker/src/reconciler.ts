/**
 * The reconciler: Redis is a transport, Postgres is the record. Every pass
 * finds deliveries still open after a threshold and makes sure each has a
 * live job. A job that is waiting, delayed or active is left alone; one that
 * is missing (Redis was flushed or restarted empty) or finished without
 * updating the ledger (a crash) is added again under the same id, so nothing
 * is lost and nothing doubles (the ledger's claims and the nonce see to that).
 *
 * Events need no pass of their own: the relay marks an event published in
 * the same transaction that writes its ledger rows, so an event is either
 * still pending in the outbox (the relay takes it) or has its rows.
 */
import type { Queue } from 'bullmq';
import type { PrismaClient } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';
import { deliveryJobId, enqueue, JOBS, type RetryPolicy } from '@flipfix/queue';

export interface ReconcilerOptions {
  prisma: PrismaClient;
  botQueue: Queue;
  webhookQueue: Queue;
  retry: RetryPolicy;
  log: Logger;
  /** How old an unfinished delivery must be before it is looked at. */
  staleAfterMs: number;
  intervalMs?: number;
  batchSize?: number;
}

export class Reconciler {
  readonly #o: ReconcilerOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
  }

  start(): void {
    const interval = this.#o.intervalMs ?? Math.max(1000, Math.min(30_000, this.#o.staleAfterMs / 2));
    this.#timer = setInterval(() => {
      if (!this.#running) this.#running = this.runOnce().catch((err) => this.#o.log.warn({ err }, 'reconcile pass failed')).finally(() => (this.#running = null));
    }, interval);
    this.#timer.unref();
  }

  /** One pass; returns how many jobs were (re)created. */
  async runOnce(): Promise<{ deliveries: number }> {
    const cutoff = new Date(Date.now() - this.#o.staleAfterMs);
    const deliveries = await this.#o.prisma.delivery.findMany({
      where: { status: { in: ['pending', 'sending'] }, updatedAt: { lt: cutoff } },
      select: { id: true, target: true, batchId: true },
      orderBy: { createdAt: 'asc' },
      take: this.#o.batchSize ?? 1000,
    });
    const bot = new Set<string>();
    const hooks = new Set<string>();
    // A batched delivery is sent by its batch leader's job.
    for (const d of deliveries) (d.target === 'webhook' ? hooks : bot).add(d.target === 'webhook' ? d.id : (d.batchId ?? d.id));
    // A bot job carries several rows and keeps the ones that must wait (a
    // rate limit, a backoff): a row in a live job has its job, whatever its id.
    if (bot.size > 0) for (const id of await this.#rowsInLiveJobs()) bot.delete(id);
    const options = { retry: this.#o.retry, ifAbsent: true };
    const added =
      (await enqueue(this.#o.botQueue, JOBS.deliverBot, [...bot].map((id) => ({ data: { deliveryIds: [id] }, jobId: deliveryJobId(id) })), options)) +
      (await enqueue(this.#o.webhookQueue, JOBS.deliverWebhook, [...hooks].map((id) => ({ data: { deliveryId: id }, jobId: deliveryJobId(id) })), options));
    if (added > 0) this.#o.log.warn({ deliveries: added }, 'reconciler re-enqueued unfinished work');
    return { deliveries: added };
  }

  /** Ledger ids carried by the bot queue's live jobs (waiting, delayed, active). */
  async #rowsInLiveJobs(): Promise<Set<string>> {
    const jobs = await this.#o.botQueue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'paused']);
    const ids = new Set<string>();
    for (const job of jobs) {
      const data = JOBS.deliverBot.schema.safeParse(job?.data);
      if (data.success) for (const id of data.data.deliveryIds) ids.add(id);
    }
    return ids;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
