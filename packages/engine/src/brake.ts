/**
 * The invalid-request brake. Discord bans a bot's IP for a while after
 * 10,000 answers of 401, 403 or 429 in 10 minutes. Every worker process (and
 * the web app's probes) counts those answers in Redis, in one-minute buckets;
 * above a safety margin the brake is on: the workers stop sending and leave
 * their work queued (as delayed jobs) until the count falls, and `/health`
 * reports `down`.
 */
import { type REST, RESTEvents } from '@discordjs/rest';
import type { RedisConnection } from '@flipfix/queue';

/** Discord's limit: invalid requests per 10 minutes before a temporary ban. */
export const DISCORD_INVALID_REQUEST_LIMIT = 10_000;
/** The brake engages at half of Discord's limit, leaving room for requests already in flight elsewhere. */
export const DEFAULT_BRAKE_THRESHOLD = DISCORD_INVALID_REQUEST_LIMIT / 2;
const WINDOW_MINUTES = 10;
const MINUTE_MS = 60_000;

/** Options of {@link InvalidRequestBrake}. */
export interface BrakeOptions {
  redis: RedisConnection;
  /** The deployment's key prefix (BullMQ's, hash-tagged: `{flipfix}`). */
  prefix: string;
  /** Invalid requests in 10 minutes at which sending stops. Default {@link DEFAULT_BRAKE_THRESHOLD}. */
  threshold?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** The brake's state, for `/health` and the worker. */
export interface BrakeState {
  on: boolean;
  /** Invalid requests counted in the last 10 minutes. */
  count: number;
  threshold: number;
  /** When on: how long until the oldest minute leaves the window. */
  retryAfterMs: number;
}

/** Counts invalid requests across every process, and says when to stop sending. */
export class InvalidRequestBrake {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly threshold: number;

  constructor(options: BrakeOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#now = options.now ?? Date.now;
    this.threshold = options.threshold ?? DEFAULT_BRAKE_THRESHOLD;
  }

  // Under the deployment's hash-tagged prefix every bucket shares one Redis
  // Cluster slot, so the ten of them are read with one MGET.
  #key(minute: number): string {
    return `${this.#prefix}:invalid-requests:${minute}`;
  }

  /** Counts `n` invalid answers now. */
  async record(n = 1): Promise<void> {
    const key = this.#key(Math.floor(this.#now() / MINUTE_MS));
    await this.#redis.multi().incrby(key, n).pexpire(key, (WINDOW_MINUTES + 1) * MINUTE_MS).exec();
  }

  /** The count over the last 10 minutes and whether the brake is on. */
  async state(): Promise<BrakeState> {
    const now = this.#now();
    const minute = Math.floor(now / MINUTE_MS);
    const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => minute - i);
    const values = await this.#redis.mget(...minutes.map((m) => this.#key(m)));
    const count = values.reduce((sum, v) => sum + (v === null ? 0 : Number(v)), 0);
    const on = count >= this.threshold;
    const oldest = minute - WINDOW_MINUTES + 1;
    return { on, count, threshold: this.threshold, retryAfterMs: on ? Math.max(1000, (oldest + WINDOW_MINUTES) * MINUTE_MS - now) : 0 };
  }
}

/** True for the answers Discord counts towards its invalid-request ban. */
export function isInvalidRequest(status: number, rateLimitScope: string | null): boolean {
  // A 429 on a shared resource limit is not counted by Discord.
  return status === 401 || status === 403 || (status === 429 && rateLimitScope !== 'shared');
}

/** Counts every invalid answer `rest` receives into `brake`; returns the unsubscribe. */
export function countInvalidRequests(rest: REST, brake: Pick<InvalidRequestBrake, 'record'>, onError: (err: unknown) => void = () => undefined): () => void {
  const listener = (_request: unknown, response: { status: number; headers: Headers }) => {
    if (isInvalidRequest(response.status, response.headers.get('x-ratelimit-scope'))) void brake.record().catch(onError);
  };
  rest.on(RESTEvents.Response, listener);
  return () => {
    rest.off(RESTEvents.Response, listener);
  };
}
