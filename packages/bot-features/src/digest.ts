/**
 * Digests (setting `digest`, off by default): while it is on, bot posts by
 * one person into one channel are held and go out as ONE message
 * ({@link formatDigest}, grouped by machine) once that person has been quiet
 * for `quietSeconds`, or `maxSeconds` after the first held post, whichever
 * comes first. Anonymous events (no actor) and urgent ones (problem reports
 * with priority `unplayable`) are never held. Edits in place are never held
 * (they change an existing message, they do not add one).
 *
 * Postgres is the record: a held post is a ledger row with status `held` and
 * a `digest_key` (channel + actor), written by the router in the same
 * statement as any other delivery. Redis only schedules: one delayed BullMQ
 * "flush" job per key with a fixed job id. A flush that runs early moves
 * itself to the key's due time. A periodic sweep makes sure every key with
 * held rows has a job, so a worker dying, or Redis losing the job, only
 * delays a digest.
 *
 * Flushing first claims the rows (`digest_batch` = the oldest row's id) and
 * then posts with a nonce derived from that id: a flush interrupted after
 * posting resends the same batch with the same nonce, and Discord answers
 * with the message already created instead of posting twice.
 */
import { createHash } from 'node:crypto';
import type { REST } from '@discordjs/rest';
import { DelayedError, type Job, Queue, Worker, type WorkerOptions } from 'bullmq';
import { type Db, ledger, type NotifySettings, type OutboxEvent, type SourceRecords } from '@flipfix/db';
import { classifyDiscordError, type DigestItem, formatDigest, nonceFor, postMessage } from '@flipfix/discord';
import { attemptOf, type DeliveryMetrics, finishJob, handleFailure, type RateLimiter } from '@flipfix/engine';
import type { EntityType, EventType } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { deliveryJobId, enqueue, JOBS, parseJob, QUEUES, type RetryPolicy } from '@flipfix/queue';

/** The digest flush queue. */
export const DIGEST_QUEUE = QUEUES.digests;

export interface DigestsOptions {
  db: Db;
  /** BullMQ options of the flush worker (connection, prefix, locks). */
  queueWorkerOptions: WorkerOptions;
  rest: REST;
  limiter: Pick<RateLimiter, 'reserve' | 'block'>;
  metrics?: DeliveryMetrics | undefined;
  settings: () => NotifySettings;
  baseUrl: string;
  /** The source's records, read when a digest is flushed. */
  records: Pick<SourceRecords, 'loadPostSubjects'>;
  log: Logger;
  retry: RetryPolicy;
  /** The bot delivery queue: a digest of one post is sent as that post. */
  botQueue: Queue;
  /** Replaces the settings' window, in milliseconds (tests and benchmarks use seconds the settings refuse). */
  window?: { quietMs: number; maxMs: number } | undefined;
  /** How often to make sure every held key has a flush job. Default 10 s. */
  sweepMs?: number | undefined;
  concurrency?: number | undefined;
}

/** What one flush did. */
export type FlushOutcome = 'empty' | 'waiting' | 'posted' | 'released' | 'failed';

/** The minimal event the hold decision needs. */
export type HoldEvent = Pick<OutboxEvent, 'type' | 'actorName' | 'payload'>;

/** Digest key of a channel and an actor (names compared case-insensitively). */
export function digestKeyOf(channelId: string, actorName: string): string {
  return `${channelId}:${actorName.normalize('NFKC').trim().toLowerCase()}`;
}

/** True for events that must never wait: unplayable problem reports. */
export function isUrgent(event: Pick<OutboxEvent, 'type' | 'payload'>): boolean {
  const payload = (typeof event.payload === 'object' && event.payload !== null ? event.payload : {}) as { priority?: unknown };
  return event.type === 'problem_report_created' && payload.priority === 'unplayable';
}

/** When a digest whose held posts were created at `first`…`last` is due. */
export function digestDueAt(first: Date, last: Date, window: { quietMs: number; maxMs: number }): number {
  return Math.min(last.getTime() + window.quietMs, first.getTime() + window.maxMs);
}

function flushJobId(key: string): string {
  // BullMQ job ids may not contain ':'; the key does.
  return `digest-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The digest machinery of one worker process. */
export class Digests {
  readonly queue: Queue;
  readonly worker: Worker;
  readonly #o: DigestsOptions;
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<unknown> | null = null;

  constructor(options: DigestsOptions) {
    this.#o = options;
    const { connection, prefix } = options.queueWorkerOptions;
    this.queue = new Queue(DIGEST_QUEUE, { connection, ...(prefix ? { prefix } : {}) });
    this.worker = new Worker(DIGEST_QUEUE, (job, token) => this.flush(parseJob(JOBS.flushDigest, job).key, job, token), {
      ...options.queueWorkerOptions,
      concurrency: options.concurrency ?? 5,
    });
    this.worker.on('error', (err) => options.log.error({ err, queue: DIGEST_QUEUE }, 'queue worker error'));
  }

  /** Starts the periodic sweep (and runs one now). */
  start(): void {
    const run = () => {
      this.#sweeping ??= this.sweep()
        .catch((err) => this.#o.log.warn({ err }, 'digest sweep failed'))
        .finally(() => (this.#sweeping = null));
    };
    run();
    this.#timer = setInterval(run, this.#o.sweepMs ?? 10_000);
    this.#timer.unref();
  }

  /** The window in force: the override, else the settings. */
  window(): { quietMs: number; maxMs: number } {
    if (this.#o.window) return this.#o.window;
    const d = this.#o.settings().digest;
    return { quietMs: d.quietSeconds * 1000, maxMs: d.maxSeconds * 1000 };
  }

  /**
   * The router's `holdForDigest` hook: the key to hold a bot post under, or
   * null to send it now. Schedules the key's flush (a no-op when one is already waiting).
   */
  async hold(event: HoldEvent, target: { targetKey: string }): Promise<string | null> {
    if (!this.#o.settings().digest.enabled) return null;
    const actor = event.actorName?.trim();
    if (!actor || isUrgent(event)) return null;
    const key = digestKeyOf(target.targetKey, actor);
    await this.#schedule(key, this.window().quietMs);
    return key;
  }

  async #schedule(key: string, delayMs: number): Promise<boolean> {
    const added = await enqueue(this.queue, JOBS.flushDigest, [{ data: { key }, jobId: flushJobId(key), delayMs: Math.max(0, delayMs) }], {
      retry: this.#o.retry,
      ifAbsent: true,
    });
    return added > 0;
  }

  /** Makes sure every key with held posts has a flush job, due when its window closes. */
  async sweep(): Promise<number> {
    const groups = await this.#o.db.prisma.delivery.groupBy({
      by: ['digestKey'],
      where: { status: 'held', digestKey: { not: null } },
      _min: { createdAt: true },
      _max: { createdAt: true },
    });
    const enabled = this.#o.settings().digest.enabled;
    let added = 0;
    for (const g of groups) {
      if (g.digestKey === null || g._min.createdAt === null || g._max.createdAt === null) continue;
      const due = enabled ? digestDueAt(g._min.createdAt, g._max.createdAt, this.window()) : Date.now();
      if (await this.#schedule(g.digestKey, due - Date.now())) added++;
    }
    if (added > 0) this.#o.log.info({ keys: added }, 'digest sweep scheduled flushes');
    return added;
  }

  /**
   * Sends the digest of `key` if its window has closed (else, inside a job,
   * moves the job to the due time). Safe to repeat: see the module comment.
   */
  async flush(key: string, job?: Job, token?: string): Promise<FlushOutcome> {
    const prisma = this.#o.db.prisma;
    const pool = this.#o.db.pool;
    // A batch claimed by an interrupted flush goes out first, exactly as it was claimed.
    let claimed = await prisma.delivery.findFirst({
      where: { digestKey: key, status: 'held', digestBatch: { not: null } },
      select: { digestBatch: true },
      orderBy: { createdAt: 'asc' },
    });
    if (claimed === null) {
      const waiting = await prisma.delivery.findMany({
        where: { digestKey: key, status: 'held', digestBatch: null },
        select: { id: true, createdAt: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const first = waiting[0];
      const last = waiting.at(-1);
      if (first === undefined || last === undefined) return 'empty';
      const due = this.#o.settings().digest.enabled ? digestDueAt(first.createdAt, last.createdAt, this.window()) : 0;
      if (due > Date.now()) {
        if (!job) return 'waiting';
        await job.moveToDelayed(due, token);
        throw new DelayedError();
      }
      await ledger.claimDigest(
        pool,
        waiting.map((w) => w.id),
        first.id,
      );
      claimed = { digestBatch: first.id };
    }
    const batchId = claimed.digestBatch!;
    const members = await prisma.delivery.findMany({
      where: { digestBatch: batchId, status: 'held' },
      include: { event: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const log = this.#o.log.child({ digestKey: key, digestBatch: batchId });
    const only = members[0];
    if (only === undefined) return 'empty';

    if (members.length === 1) {
      // Nothing to summarize: the post goes out as itself (with its thread, reactions and buttons).
      await ledger.release(pool, [only.id]);
      await enqueue(this.#o.botQueue, JOBS.deliverBot, [{ data: { deliveryIds: [only.id] }, jobId: deliveryJobId(only.id) }], { retry: this.#o.retry });
      log.info({ deliveryId: only.id }, 'digest of one post released as a normal post');
      return 'released';
    }

    const items: DigestItem[] = [];
    const included: string[] = [];
    for (const d of members) {
      const e = d.event;
      const [subject] = await this.#o.records.loadPostSubjects([{ type: e.type as EventType, entityType: e.entityType as EntityType, entityId: e.entityId }]);
      if (!subject) {
        await ledger.skipped(pool, [d.id], 'the record no longer exists');
        continue;
      }
      items.push({ subject, eventType: e.type as EventType });
      included.push(d.id);
    }
    if (items.length === 0) return 'empty';

    const channelId = only.targetKey;
    const settings = this.#o.settings();
    const body = formatDigest(items, {
      baseUrl: this.#o.baseUrl,
      mode: 'bot',
      actorName: only.event.actorName,
      roleMention: settings.unplayableRoleId ? { roleId: settings.unplayableRoleId } : null,
    });
    const waitMs = await this.#o.limiter.reserve(channelId);
    if (waitMs > 0) {
      if (!job) throw new Error(`rate limited for ${waitMs} ms`);
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    await ledger.countDigestAttempt(pool, included);

    let messageId: string;
    try {
      messageId = (await postMessage(this.#o.rest, channelId, body, { nonce: nonceFor(`digest:${batchId}`) })).id;
    } catch (err) {
      // The one decision every path takes; held rows stay held until it is posted or given up.
      const position = job ? attemptOf(job) : { attempt: 1, maxAttempts: this.#o.retry.attempts };
      const applyDeps = { db: pool, limiter: this.#o.limiter, metrics: this.#o.metrics, log, target: 'bot' as const };
      const decision = await handleFailure(applyDeps, classifyDiscordError(err), position, included, channelId);
      if (!job) throw err;
      await finishJob(job, token, decision.job, decision.ledger.reason);
      return 'failed';
    }
    await ledger.delivered(
      pool,
      // The digest is one embed: every event in it is at index 0.
      included.map((id) => ({ id, channelId, messageId, embedIndex: 0, batchId: null, payload: body })),
    );
    log.info({ channelId, messageId, events: included.length }, 'posted digest to discord');
    return 'posted';
  }

  /** Stops the sweep and the flush worker; held posts stay held for the next process. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#sweeping;
    await this.worker.close();
    await this.queue.close();
  }
}
