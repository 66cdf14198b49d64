/**
 * The reconciler: Redis is a transport, Postgres is the record. Every pass
 * finds events published but never routed, and deliveries still open, that
 * are older than a threshold, and makes sure each has a live job. A job that
 * is waiting, delayed or active is left alone; one that is missing (Redis was
 * flushed or restarted empty) or finished without updating the ledger (a crash)
 * is added again under the same id, so nothing is lost and nothing doubles.
 */
import type { Queue } from 'bullmq';
import type { PrismaClient } from '@flipfix/db';
import type { Logger } from '@flipfix/logger';
import { JOBS, type RetryPolicy, deliveryJobId, ensureJob, eventJobId } from '@flipfix/queue';

export interface ReconcilerOptions {
  prisma: PrismaClient;
  eventsQueue: Queue;
  botQueue: Queue;
  webhookQueue: Queue | null;
  retry: RetryPolicy;
  log: Logger;
  /** How old an unfinished event or delivery must be before it is looked at. */
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
  async runOnce(): Promise<{ events: number; deliveries: number }> {
    const cutoff = new Date(Date.now() - this.#o.staleAfterMs);
    const take = this.#o.batchSize ?? 1000;
    const events = await this.#o.prisma.outboxEvent.findMany({
      where: { routedAt: null, publishedAt: { lt: cutoff }, status: 'published' },
      select: { id: true, type: true },
      orderBy: { createdAt: 'asc' },
      take,
    });
    let eventsRequeued = 0;
    for (const e of events) {
      const added = await ensureJob(this.#o.eventsQueue, eventJobId(e.id), JOBS.routeEvent.name, { eventId: e.id, type: e.type }, JOBS.routeEvent.options(this.#o.retry));
      if (added) eventsRequeued++;
    }
    const deliveries = await this.#o.prisma.delivery.findMany({
      where: { status: { in: ['pending', 'sending'] }, updatedAt: { lt: cutoff } },
      select: { id: true, eventId: true, target: true, batchId: true },
      orderBy: { createdAt: 'asc' },
      take,
    });
    let deliveriesRequeued = 0;
    const seen = new Set<string>();
    for (const d of deliveries) {
      const queue = d.target === 'webhook' ? this.#o.webhookQueue : this.#o.botQueue;
      if (!queue) continue;
      // A batched delivery is sent by its batch leader's job.
      const jobOwner = d.batchId ?? d.id;
      if (seen.has(jobOwner)) continue;
      seen.add(jobOwner);
      const added = await ensureJob(queue, deliveryJobId(jobOwner), JOBS.deliver.name, { deliveryId: jobOwner, eventId: d.eventId }, JOBS.deliver.options(this.#o.retry));
      if (added) deliveriesRequeued++;
    }
    if (eventsRequeued || deliveriesRequeued) {
      this.#o.log.warn({ events: eventsRequeued, deliveries: deliveriesRequeued }, 'reconciler re-enqueued unfinished work');
    }
    return { events: eventsRequeued, deliveries: deliveriesRequeued };
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
