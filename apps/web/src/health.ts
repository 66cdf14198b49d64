/**
 * Health: Postgres, Redis, queue depths, the invalid-request brake, whether
 * LISTEN works (informational) and
 * Discord (token, default channel, recent permanent delivery failures), each
 * with an actionable message. The answer separates two kinds of trouble:
 *  - `down` (HTTP 503): nothing can be delivered at all: Postgres or Redis
 *    unreachable, the bot token rejected, the default channel unreachable,
 *    or the invalid-request brake on. Restarting or failing over is fair.
 *  - `degraded` (HTTP 200, with the reasons): delivery works but something
 *    needs a person: a failing webhook endpoint, recent permanent failures.
 *    A load balancer must not restart a healthy service for those.
 * The Discord probe is cached for a few seconds so `/health` stays cheap
 * when a load balancer polls it.
 */
import type { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import type { Queue } from 'bullmq';
import type { RedisConnection as Redis } from '@flipfix/queue';
import { type Db, getSettings, listenWorks } from '@flipfix/db';
import { classifyDiscordError } from '@flipfix/discord';
import type { BrakeState, InvalidRequestBrake } from '@flipfix/engine';
import type { QUEUES } from '@flipfix/queue';

/** One check's outcome. */
export interface CheckResult {
  ok: boolean;
  /** What to do about it when not ok; a short statement when ok. */
  message: string;
  latencyMs?: number;
}

/** Job counts of one queue. */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  prioritized: number;
}

/** A recent permanent failure that is not followed by a success on the same target. */
export interface RecentFailure {
  deliveryId: string;
  target: string;
  targetKey: string;
  reason: string;
  /** `permanent:<what>` (token, channel, permission, webhook, body…). */
  errorClass: string | null;
  at: Date;
}

/** The whole report, as `/health` returns it. */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  /** Why the status is not `ok`, one line each (the `down` ones first). */
  reasons: string[];
  checkedAt: Date;
  checks: {
    postgres: CheckResult;
    redis: CheckResult;
    /** The invalid-request brake (401/403/429 answers counted across every worker). */
    brake?: CheckResult & Partial<BrakeState>;
    /** Job counts by BullMQ queue name (the names the job dashboard and /metrics use). */
    queues: CheckResult & { depths: Record<string, QueueDepth> };
    /** Whether NOTIFY reaches a LISTEN on this DATABASE_URL (see {@link OutboxListenCheck}). */
    outboxListen: OutboxListenCheck;
    discord?: {
      token: CheckResult & { botUser?: string };
      channel: CheckResult & { channelId: string };
      recentFailures: CheckResult & { items: RecentFailure[] };
    };
  };
}

/**
 * LISTEN through this DATABASE_URL. Behind PgBouncer in transaction mode it
 * cannot work; the relay then wakes on its poll alone (new events wait up to
 * one poll interval). Informational: it never makes the status `down`.
 */
export interface OutboxListenCheck extends CheckResult {
  /** true: NOTIFY arrives; false: it does not (polling); null: could not be probed. */
  listen: boolean | null;
}

export interface HealthDeps {
  db: Db;
  redis: Redis;
  queues: Record<keyof typeof QUEUES, Queue>;
  /** Queues outside the shared catalog that are counted too (the digest queue). */
  extraQueues?: readonly Queue[] | undefined;
  discordRest?: REST | undefined;
  /** Set again before each probe: the client drops its token after a 401. */
  discordToken?: string | undefined;
  /** Channel used when settings name none. */
  defaultChannelId: string;
  /** Discord probe cache lifetime. Default 5000 ms. */
  discordCacheMs?: number;
  /** Per-check timeout. Default 3000 ms. */
  timeoutMs?: number;
  /** Window for "recent" permanent failures. Default 15 min. */
  failureWindowMs?: number;
  /** How long the LISTEN probe's answer is kept. Default 60 s. */
  listenCacheMs?: number;
  /** The workers' invalid-request brake, read from Redis. */
  brake?: Pick<InvalidRequestBrake, 'state'> | undefined;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function timed(fn: () => Promise<string>, timeoutMs: number, what: string, onError: (err: unknown) => string): Promise<CheckResult> {
  const started = performance.now();
  try {
    const message = await withTimeout(fn(), timeoutMs, what);
    return { ok: true, message, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, message: onError(err), latencyMs: Math.round(performance.now() - started) };
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';

/** Runs the checks; `check()` never throws. */
export class HealthService {
  readonly #deps: HealthDeps;
  #discordCache: { at: number; value: Promise<NonNullable<HealthReport['checks']['discord']>> } | null = null;
  #listenCache: { at: number; value: Promise<OutboxListenCheck> } | null = null;

  constructor(deps: HealthDeps) {
    this.#deps = deps;
  }

  /** Forgets the cached Discord probe (after a settings change, say). */
  invalidate(): void {
    this.#discordCache = null;
  }

  async check(): Promise<HealthReport> {
    const timeoutMs = this.#deps.timeoutMs ?? 3000;
    const { db, redis } = this.#deps;
    const [postgres, redisCheck, queueCheck, discord, brake, outboxListen] = await Promise.all([
      timed(
        async () => {
          await db.pool.query('SELECT 1');
          return 'Postgres answers';
        },
        timeoutMs,
        'Postgres',
        (err) => `Postgres is unreachable: ${errorText(err)}`,
      ),
      timed(
        async () => {
          await redis.ping();
          return 'Redis answers';
        },
        timeoutMs,
        'Redis',
        (err) => `Redis is unreachable: ${errorText(err)}`,
      ),
      this.#queueDepths(timeoutMs),
      this.#deps.discordRest ? this.#discord(timeoutMs) : Promise.resolve(undefined),
      this.#brake(timeoutMs),
      this.#outboxListen(timeoutMs),
    ]);
    // Delivery is impossible: 503.
    const down = [postgres, redisCheck, ...(brake ? [brake] : []), ...(discord ? [discord.token, discord.channel] : [])].filter((c) => !c.ok);
    // Delivery works, a person should look: 200 with the reasons.
    const degraded = [queueCheck, ...(discord ? [discord.recentFailures] : [])].filter((c) => !c.ok);
    return {
      status: down.length > 0 ? 'down' : degraded.length > 0 ? 'degraded' : 'ok',
      reasons: [...down, ...degraded].map((c) => c.message),
      checkedAt: new Date(),
      checks: {
        postgres,
        redis: redisCheck,
        ...(brake ? { brake } : {}),
        queues: queueCheck,
        outboxListen,
        ...(discord ? { discord } : {}),
      },
    };
  }

  async #brake(timeoutMs: number): Promise<(CheckResult & Partial<BrakeState>) | undefined> {
    const brake = this.#deps.brake;
    if (!brake) return undefined;
    let state: BrakeState | undefined;
    const result = await timed(
      async () => {
        state = await brake.state();
        if (state.on) throw new Error('on');
        return `${state.count} invalid Discord requests (401/403/429) in the last 10 minutes; the brake engages at ${state.threshold}`;
      },
      timeoutMs,
      'Redis',
      (err) =>
        state?.on
          ? `the invalid-request brake is on: ${state.count} answers of 401/403/429 in 10 minutes (Discord bans at 10,000); sending resumes in about ${Math.ceil(state.retryAfterMs / 60_000)} min; fix the token, permissions or limits that cause them`
          : `the invalid-request brake cannot be read: ${errorText(err)}`,
    );
    return { ...result, ...(state ?? {}) };
  }

  async #queueDepths(timeoutMs: number): Promise<HealthReport['checks']['queues']> {
    const depths: Record<string, QueueDepth> = {};
    const result = await timed(
      async () => {
        await Promise.all(
          [...Object.values(this.#deps.queues), ...(this.#deps.extraQueues ?? [])].map(async (queue) => {
            const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
            depths[queue.name] = {
              waiting: c.waiting ?? 0,
              active: c.active ?? 0,
              delayed: c.delayed ?? 0,
              failed: c.failed ?? 0,
              prioritized: c.prioritized ?? 0,
            };
          }),
        );
        return 'queue depths read';
      },
      timeoutMs,
      'the queues',
      (err) => `queue depths unavailable: ${errorText(err)}`,
    );
    return { ...result, depths };
  }

  #discord(timeoutMs: number): Promise<NonNullable<HealthReport['checks']['discord']>> {
    const ttl = this.#deps.discordCacheMs ?? 5000;
    const now = Date.now();
    if (this.#discordCache && now - this.#discordCache.at < ttl) return this.#discordCache.value;
    const value = this.#probeDiscord(timeoutMs);
    this.#discordCache = { at: now, value };
    return value;
  }

  async #probeDiscord(timeoutMs: number): Promise<NonNullable<HealthReport['checks']['discord']>> {
    const rest = this.#deps.discordRest as REST;
    if (this.#deps.discordToken) rest.setToken(this.#deps.discordToken);
    const settings = await getSettings(this.#deps.db.prisma).catch(() => null);
    const channelId = settings?.channelId ?? this.#deps.defaultChannelId;
    const discordReason = (err: unknown) => (err instanceof TimeoutError ? `Discord did not answer within ${timeoutMs} ms` : classifyDiscordError(err).reason);
    let botUser: string | undefined;
    const [token, channel, recentFailures] = await Promise.all([
      timed(
        async () => {
          const me = (await rest.get(Routes.user('@me'))) as { username?: string; id?: string };
          botUser = me.username ?? me.id;
          return `Discord accepts the bot token (${botUser ?? 'bot'})`;
        },
        timeoutMs,
        'Discord',
        (err) => {
          const reason = discordReason(err);
          return reason.startsWith('Discord rejects the bot token') ? `${reason}: set DISCORD_BOT_TOKEN to a valid bot token` : reason;
        },
      ),
      timed(
        async () => {
          const ch = (await rest.get(Routes.channel(channelId))) as { name?: string };
          return `the bot can see channel ${ch.name ? `#${ch.name} ` : ''}(${channelId})`;
        },
        timeoutMs,
        'Discord',
        (err) => {
          const reason = discordReason(err);
          return `default channel ${channelId}: ${reason}`;
        },
      ),
      this.#recentFailures(),
    ]);
    // The channel answers a lookup, but posts to it fail for good (the bot may
    // see it yet lack Send Messages): for delivery, it is unreachable.
    const refused = recentFailures.items.find(
      (f) => f.target === 'bot' && f.targetKey === channelId && (f.errorClass === 'permanent:permission' || f.errorClass === 'permanent:channel'),
    );
    const reachable = channel.ok && refused === undefined;
    return {
      token: { ...token, ...(botUser === undefined ? {} : { botUser }) },
      channel: { ...channel, ...(reachable ? {} : { ok: false }), ...(channel.ok && refused ? { message: `default channel ${channelId}: ${refused.reason}` } : {}), channelId },
      recentFailures,
    };
  }

  /** The LISTEN probe, cached: it waits up to a second when NOTIFY does not come back. */
  #outboxListen(timeoutMs: number): Promise<OutboxListenCheck> {
    const now = Date.now();
    if (this.#listenCache && now - this.#listenCache.at < (this.#deps.listenCacheMs ?? 60_000)) return this.#listenCache.value;
    const value = withTimeout(listenWorks(this.#deps.db.pool, Math.min(1000, timeoutMs)), timeoutMs + 1000, 'the LISTEN probe').then(
      (listen): OutboxListenCheck =>
        listen
          ? { ok: true, listen, message: 'LISTEN works: the relay is woken by NOTIFY' }
          : {
              ok: true,
              listen,
              message: 'LISTEN is unavailable on this connection (a pooler in transaction mode?): the relay polls the outbox instead (about 1 s per event at worst)',
            },
      (err: unknown): OutboxListenCheck => ({ ok: true, listen: null, message: `LISTEN not probed: ${errorText(err)}` }),
    );
    this.#listenCache = { at: now, value };
    return value;
  }

  async #recentFailures(): Promise<CheckResult & { items: RecentFailure[] }> {
    const since = new Date(Date.now() - (this.#deps.failureWindowMs ?? 15 * 60_000));
    try {
      // A permanent failure stops mattering once a later delivery to the same target succeeded.
      const rows = await this.#deps.db.prisma.$queryRaw<
        { id: string; target: string; target_key: string; last_error: string | null; error_class: string | null; updated_at: Date }[]
      >`
        SELECT d.id, d.target, d.target_key, d.last_error, d.error_class, d.updated_at
        FROM deliveries d
        WHERE d.status = 'failed' AND d.error_class LIKE 'permanent%' AND d.updated_at >= ${since}
          AND NOT EXISTS (
            SELECT 1 FROM deliveries ok
            WHERE ok.target = d.target AND ok.target_key = d.target_key
              AND ok.status = 'delivered' AND ok.delivered_at > d.updated_at)
        ORDER BY d.updated_at DESC
        LIMIT 20`;
      const items = rows.map((r) => ({
        deliveryId: r.id,
        target: r.target,
        targetKey: r.target_key,
        reason: r.last_error ?? 'failed',
        errorClass: r.error_class,
        at: r.updated_at,
      }));
      const first = items[0];
      if (first === undefined) return { ok: true, message: 'no permanent delivery failures in the last 15 minutes', items };
      return {
        ok: false,
        message: `${items.length} permanent delivery failure${items.length === 1 ? '' : 's'} in the last 15 minutes; latest: ${first.reason}`,
        items,
      };
    } catch (err) {
      return { ok: false, message: `cannot read the delivery ledger: ${errorText(err)}`, items: [] };
    }
  }
}
