/**
 * `/metrics` for Prometheus, computed at scrape time from the records of
 * truth: events and ledger counts from Postgres, queue depths from BullMQ.
 * Nothing is counted in this process, so every web replica reports the same
 * figures and a restart loses nothing.
 */
import type { Queue } from 'bullmq';
import { Gauge, Registry } from 'prom-client';
import type { Db } from '@flipfix/db';
import type { QUEUES } from '@flipfix/queue';

/** Latency buckets, seconds (the worker's histogram uses the same ones). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600] as const;

export interface WebMetricsDeps {
  db: Db;
  queues: Record<keyof typeof QUEUES, Queue>;
  /** Queues outside the shared catalog that are counted too (the digest queue). */
  extraQueues?: readonly Queue[] | undefined;
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The web app's metrics registry. */
export class WebMetrics {
  readonly registry = new Registry();
  readonly #deps: WebMetricsDeps;

  constructor(deps: WebMetricsDeps) {
    this.#deps = deps;
    const { db } = deps;
    const queues = [...Object.values(deps.queues), ...(deps.extraQueues ?? [])];
    new Gauge({
      name: 'flipfix_events',
      help: 'Outbox events recorded, by type (from Postgres; only grows)',
      labelNames: ['type'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db.prisma.outboxEvent.groupBy({ by: ['type'], _count: { _all: true } });
        this.reset();
        for (const r of rows) this.set({ type: r.type }, r._count._all);
      },
    });
    new Gauge({
      name: 'flipfix_deliveries',
      help: 'Deliveries in the ledger, by target (bot | webhook) and status (pending | sending | delivered | failed | skipped)',
      labelNames: ['target', 'status'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db.prisma.delivery.groupBy({ by: ['target', 'status'], _count: { _all: true } });
        this.reset();
        for (const r of rows) this.set({ target: r.target, status: r.status }, r._count._all);
      },
    });
    new Gauge({
      name: 'flipfix_deliveries_rate_limited',
      help: 'Deliveries whose latest attempt Discord rate limited (429), by target, from the ledger',
      labelNames: ['target'] as const,
      registers: [this.registry],
      async collect() {
        const rows = await db.prisma.delivery.groupBy({ by: ['target'], where: { errorClass: 'rate_limited' }, _count: { _all: true } });
        this.reset();
        for (const t of ['bot', 'webhook']) this.set({ target: t }, 0);
        for (const r of rows) this.set({ target: r.target }, r._count._all);
      },
    });
    new Gauge({
      name: 'flipfix_queue_jobs',
      help: 'BullMQ jobs per queue and state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.map(async (q) => {
            const counts = await q.getJobCounts(...JOB_STATES);
            for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The exposition text. The latency histogram is computed in SQL over every
   * delivered post (delivered_at − event created_at), so it is cumulative and
   * identical on every replica; prom-client's Histogram cannot be loaded from
   * precomputed bucket counts, hence the hand-written lines.
   */
  async render(): Promise<string> {
    const [base, latency] = await Promise.all([this.registry.metrics(), this.#latencyHistogram()]);
    return `${base}\n${latency}`;
  }

  async #latencyHistogram(): Promise<string> {
    const name = 'flipfix_event_to_post_seconds';
    const bucketSql = LATENCY_BUCKETS.map((b, i) => `count(*) FILTER (WHERE s <= ${b}) AS b${i}`).join(', ');
    const { rows } = await this.#deps.db.pool.query<Record<string, string | number>>(
      `SELECT target, count(*) AS n, coalesce(sum(s), 0) AS total, ${bucketSql}
       FROM (SELECT d.target, extract(epoch FROM d.delivered_at - e.created_at)::float8 AS s
             FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
             WHERE d.status = 'delivered' AND d.delivered_at IS NOT NULL AND d.action = 'post') t
       GROUP BY target ORDER BY target`,
    );
    const lines = [
      `# HELP ${name} Time from the event commit (outbox row) to its message in Discord, over every delivered post (from the ledger)`,
      `# TYPE ${name} histogram`,
    ];
    for (const r of rows) {
      const target = escapeLabel(String(r.target));
      LATENCY_BUCKETS.forEach((b, i) => {
        lines.push(`${name}_bucket{target="${target}",le="${b}"} ${Number(r[`b${i}`] ?? 0)}`);
      });
      lines.push(`${name}_bucket{target="${target}",le="+Inf"} ${Number(r.n)}`);
      lines.push(`${name}_sum{target="${target}"} ${Number(r.total)}`);
      lines.push(`${name}_count{target="${target}"} ${Number(r.n)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
