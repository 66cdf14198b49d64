/**
 * The worker's processors, each built from the shared resources: the outbox
 * relay (which routes), the bot delivery path, the reconciler, and whatever
 * the extensions add (the webhook path, digests).
 */
import { Worker } from 'bullmq';
import type { WorkerExtension } from '@flipfix/engine';
import { QUEUES } from '@flipfix/queue';
import { createBotProcessor } from './bot-path';
import { Reconciler } from './reconciler';
import { OutboxRelay } from './relay';
import type { Resources } from './resources';
import { enqueueDeliveries, routeBatch } from './router';

/** The running processors. */
export interface Processors {
  relay: OutboxRelay;
  reconciler: Reconciler;
  workers: Worker[];
}

/** Starts the processors; the relay starts last, once every consumer is listening. */
export async function startProcessors(resources: Resources, extension: WorkerExtension): Promise<Processors> {
  const { db, records, settings, metrics, log, options, queues, retry } = resources;
  const bot = new Worker(
    QUEUES.bot,
    createBotProcessor({
      db,
      posters: resources.posters,
      botToken: options.discord.token,
      limiter: resources.limiter,
      brake: resources.brake,
      settings: () => settings.current,
      baseUrl: options.baseUrl,
      records,
      log,
      metrics,
      afterPost: extension.afterPost,
      resolveChannel: extension.resolveChannel,
      batching: options.batching ?? true,
    }),
    { ...resources.queueWorkerOptions, concurrency: options.concurrency ?? 50 },
  );
  const workers = [bot, ...(extension.workers ?? [])];
  for (const w of workers) w.on('error', (err) => log.error({ err, queue: w.name }, 'queue worker error'));

  const routeDeps = {
    settings: () => settings.current,
    defaultChannelId: options.discord.channelId,
    webhookEndpointsFor: extension.webhookEndpointsFor ?? (async () => []),
    ...(extension.holdForDigest ? { holdForDigest: extension.holdForDigest } : {}),
  };
  const relay = new OutboxRelay({
    pool: db.pool,
    log,
    pollMs: options.relayPollMs ?? 1000,
    route: async (client, events) => {
      const routed = await routeBatch(client, routeDeps, events);
      for (const e of events) metrics.eventsRouted.inc({ type: e.type });
      return routed;
    },
    enqueue: (deliveries) => enqueueDeliveries({ botQueue: queues.bot, webhookQueue: queues.webhook, retry }, deliveries),
  });
  await relay.start();
  const reconciler = new Reconciler({
    prisma: db.prisma,
    botQueue: queues.bot,
    webhookQueue: queues.webhook,
    retry,
    log,
    staleAfterMs: options.reconcileAfterMs ?? 120_000,
    ...(options.reconcileIntervalMs ? { intervalMs: options.reconcileIntervalMs } : {}),
  });
  reconciler.start();
  return { relay, reconciler, workers };
}
