/**
 * Discord rate limits shared by every worker process, in Redis.
 *
 * @discordjs/rest keeps its buckets in memory, per process, so three workers
 * would each believe they may send 5 messages per 5 s into a channel. Here
 * every send first reserves a slot in a sliding-window log kept in Redis:
 * the global window (requests per second per token) and the channel's window,
 * whose size and length are learned from Discord's X-RateLimit headers. A
 * caller that gets no slot is told how long to wait and re-queues its job as
 * delayed, so no worker slot is held while waiting.
 *
 * Time is Redis's, never the caller's: every script reads the server clock
 * (TIME), so workers on hosts whose clocks disagree by seconds still share
 * one timeline and cannot overshoot a window. All keys sit under the
 * deployment's hash-tagged prefix (`{flipfix}:rl:…`), so on Redis Cluster
 * the reserve script's four keys are in one slot.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '@flipfix/queue';

export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export interface RateLimiterOptions {
  redis: RedisConnection;
  keyPrefix: string;
  /** Discord's documented global limit: 50 requests per second per bot. */
  global?: WindowLimit | null;
  /**
   * Assumed limit for a channel whose headers we have not seen yet. Discord
   * allows about 5 messages per 5 s per channel.
   */
  defaultChannel?: WindowLimit | null;
  /** Extra time added to every window, for network jitter between us, Redis and Discord. */
  marginMs?: number;
}

/** The server's clock in milliseconds (scripts are replicated by effect, so TIME is allowed). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS[1] = global log, KEYS[2] = channel log, KEYS[3] = channel limit hash, KEYS[4] = global limit hash
// ARGV: member, gLimit, gWindow, defLimit, defWindow, margin
// Returns {0, slots left in the channel window (-1: unlimited)} when both
// slots were reserved, else {milliseconds to wait, -1}.
const RESERVE = `${NOW}
local member = ARGV[1]
local gLimit = tonumber(ARGV[2])
local gWindow = tonumber(ARGV[3])
local margin = tonumber(ARGV[6])
local cLimit = tonumber(redis.call('HGET', KEYS[3], 'limit') or ARGV[4])
local cWindow = tonumber(redis.call('HGET', KEYS[3], 'window') or ARGV[5])
local blockedUntil = math.max(
  tonumber(redis.call('HGET', KEYS[3], 'blockedUntil') or '0'),
  tonumber(redis.call('HGET', KEYS[4], 'blockedUntil') or '0'))
if blockedUntil > now then return {blockedUntil - now, -1} end
local wait = 0
if gLimit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - gWindow - margin)
  if redis.call('ZCARD', KEYS[1]) >= gLimit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + gWindow + margin - now)
  end
end
if cLimit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - cWindow - margin)
  local count = redis.call('ZCARD', KEYS[2])
  if count >= cLimit then
    local oldest = redis.call('ZRANGE', KEYS[2], count - cLimit, count - cLimit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + cWindow + margin - now)
  end
end
if wait > 0 then return {math.ceil(wait), -1} end
if gLimit > 0 then
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], gWindow + margin + 1000)
end
local left = -1
if cLimit > 0 then
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('PEXPIRE', KEYS[2], cWindow + margin + 60000)
  left = cLimit - redis.call('ZCARD', KEYS[2])
end
return {0, left}
`;

// KEYS[1] = global log, KEYS[2] = channel log; ARGV[1] = member. Re-times a
// reserved slot to now, if it is still logged.
const SETTLE = `${NOW}
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', now, ARGV[1])
return now
`;

// KEYS[1] = limit hash; ARGV[1] = block for this many ms (margin included).
const BLOCK = `${NOW}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'blockedUntil') or '0')
if untilMs > current then redis.call('HSET', KEYS[1], 'blockedUntil', untilMs) end
redis.call('PEXPIRE', KEYS[1], 86400000)
return untilMs
`;

interface LimiterCommands {
  flipfixReserve(...args: (string | number)[]): Promise<[number, number]>;
  flipfixSettle(...args: string[]): Promise<number>;
  flipfixBlock(...args: (string | number)[]): Promise<number>;
}

/** What Discord's headers said about a route, as @flipfix/discord reports it. */
export interface ObservedLimit {
  limit: number;
  resetAfterMs: number;
  remaining: number;
}

/** Shared, cross-process view of Discord's rate limits. */
export class SharedRateLimiter {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #global: WindowLimit | null;
  readonly #default: WindowLimit | null;
  readonly #margin: number;
  #seq = 0;

  constructor(options: RateLimiterOptions) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:rl`;
    this.#global = options.global === undefined ? { limit: 50, windowMs: 1000 } : options.global;
    this.#default = options.defaultChannel === undefined ? { limit: 5, windowMs: 5000 } : options.defaultChannel;
    this.#margin = options.marginMs ?? 100;
    this.#redis.defineCommand('flipfixReserve', { numberOfKeys: 4, lua: RESERVE });
    this.#redis.defineCommand('flipfixSettle', { numberOfKeys: 2, lua: SETTLE });
    this.#redis.defineCommand('flipfixBlock', { numberOfKeys: 1, lua: BLOCK });
  }

  get #commands(): LimiterCommands {
    return this.#redis as unknown as LimiterCommands;
  }

  /**
   * Reserves one request into `scope` (a channel id or `webhook:<id>`).
   * Resolves 0 when the caller may send now, else the milliseconds to wait.
   */
  async reserve(scope: string): Promise<number> {
    return (await this.reserveSlot(scope)).waitMs;
  }

  /**
   * Like {@link reserve}, and also says how many slots are left in the
   * scope's window after this one (null when the scope is unlimited), so a
   * caller taking the last slot can make the most of it.
   */
  async reserveSlot(scope: string): Promise<{ waitMs: number; remaining: number | null; slot: string | null }> {
    const member = `${process.pid}-${++this.#seq}-${randomUUID()}`;
    const g = this.#global;
    const d = this.#default;
    const result = await this.#commands.flipfixReserve(
      `${this.#prefix}:global`,
      `${this.#prefix}:log:${scope}`,
      `${this.#prefix}:limit:${scope}`,
      `${this.#prefix}:limit:global`,
      member,
      g?.limit ?? 0,
      g?.windowMs ?? 0,
      d?.limit ?? 0,
      d?.windowMs ?? 0,
      this.#margin,
    );
    const [waitMs, left] = result.map(Number) as [number, number];
    // Nothing was logged when the slot was refused or no limit applied.
    const logged = waitMs === 0 && (left >= 0 || g !== null);
    return { waitMs, remaining: left < 0 ? null : left, slot: logged ? member : null };
  }

  /**
   * Moves a reserved slot to the time the answer came back. Discord counts a
   * request when it arrives, which can be well after the reservation on a
   * busy machine; timing the slot at the answer keeps the window conservative.
   */
  async settle(scope: string, slot: string | null): Promise<void> {
    if (slot === null) return;
    await this.#commands.flipfixSettle(`${this.#prefix}:global`, `${this.#prefix}:log:${scope}`, slot);
  }

  /** Gives a reserved slot back unused (the request was not sent). */
  async release(scope: string, slot: string | null): Promise<void> {
    if (slot === null) return;
    await Promise.all([this.#redis.zrem(`${this.#prefix}:global`, slot), this.#redis.zrem(`${this.#prefix}:log:${scope}`, slot)]);
  }

  /** Learns a scope's window from response headers (limit and window length). */
  async observe(scope: string, observed: ObservedLimit): Promise<void> {
    if (!(observed.limit > 0)) return;
    const key = `${this.#prefix}:limit:${scope}`;
    // The window length is the reset-after of a fresh bucket; when we see a
    // partly used bucket, the window is at least this long, so keep the largest.
    const current = Number((await this.#redis.hget(key, 'window')) ?? 0);
    const windowMs = Math.max(current, Math.ceil(observed.resetAfterMs));
    await this.#redis.hset(key, { limit: observed.limit, window: windowMs });
    await this.#redis.pexpire(key, 24 * 3600 * 1000);
  }

  /** After a 429: nobody sends into `scope` (or anywhere, when global) until it passes. */
  async block(scope: string | 'global', retryAfterMs: number): Promise<void> {
    await this.#commands.flipfixBlock(`${this.#prefix}:limit:${scope}`, Math.ceil(retryAfterMs) + this.#margin);
  }
}
