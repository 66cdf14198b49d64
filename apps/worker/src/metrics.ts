/**
 * The worker's Prometheus metrics (prom-client), in a registry of its own so
 * tests can create several workers in one process.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly deliveryOutcome = new Counter({
    name: 'flipfix_deliveries_total',
    help: 'Deliveries finished, by target (bot | webhook) and outcome (delivered | failed | skipped)',
    labelNames: ['target', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly eventToPost = new Histogram({
    name: 'flipfix_event_to_post_seconds',
    help: 'Time from the event commit (outbox row) to the message created in Discord',
    labelNames: ['target'] as const,
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  });
  readonly discordCall = new Histogram({
    name: 'flipfix_discord_request_seconds',
    help: 'Duration of the Discord API call that created a message',
    labelNames: ['target'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly discord429 = new Counter({
    name: 'flipfix_discord_429_total',
    help: '429 Too Many Requests answers received from Discord',
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: 'flipfix_rate_limit_waits_total',
    help: 'Deliveries delayed by the shared rate limiter before sending (no request made)',
    registers: [this.registry],
  });
  readonly eventsRouted = new Counter({
    name: 'flipfix_events_routed_total',
    help: 'Outbox events routed to their targets, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'flipfix_worker_' });
  }

  observeDelivered(target: 'bot' | 'webhook', eventCreatedAt: Date, callMs: number): void {
    this.deliveryOutcome.inc({ target, outcome: 'delivered' });
    this.eventToPost.observe({ target }, (Date.now() - eventCreatedAt.getTime()) / 1000);
    this.discordCall.observe({ target }, callMs / 1000);
  }
}
