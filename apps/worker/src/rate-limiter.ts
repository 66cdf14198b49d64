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
  /**
   * How long a reserved request counts as in flight when it is never settled
   * or released (its worker died): the longest a request can take, i.e. the
   * REST timeout. Default 15000 ms.
   */
  inFlightMs?: number;
}

/** The server's clock in milliseconds (scripts are replicated by effect, so TIME is allowed). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// A window counts two kinds of request: settled ones (the log, timed at the
// answer, kept for the window) and ones still in flight (timed at the
// reservation, kept until they settle or IN_FLIGHT_MS passes). A request
// slower than the window itself still counts until Discord has answered it;
// Discord counted it on arrival, possibly long after we reserved it.
//
// KEYS: 1 global log, 2 channel log, 3 channel limit hash, 4 global limit hash,
//       5 global in-flight, 6 channel in-flight
// ARGV: member, gLimit, gWindow, defLimit, defWindow, margin, inFlightMs
// Returns {0, slots left in the channel window (-1: unlimited)} when both
// slots were reserved, else {milliseconds to wait, -1}.
const RESERVE = `${NOW}
local member = ARGV[1]
local gLimit = tonumber(ARGV[2])
local gWindow = tonumber(ARGV[3])
local margin = tonumber(ARGV[6])
local inFlightMs = tonumber(ARGV[7])
local cLimit = tonumber(redis.call('HGET', KEYS[3], 'limit') or ARGV[4])
local cWindow = tonumber(redis.call('HGET', KEYS[3], 'window') or ARGV[5])
local blockedUntil = math.max(
  tonumber(redis.call('HGET', KEYS[3], 'blockedUntil') or '0'),
  tonumber(redis.call('HGET', KEYS[4], 'blockedUntil') or '0'))
if blockedUntil > now then return {blockedUntil - now, -1} end
-- Milliseconds until the window has a free slot; 0 when it has one now.
local function waitFor(log, flying, limit, window)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window - margin)
  redis.call('ZREMRANGEBYSCORE', flying, '-inf', now - inFlightMs)
  local settled = redis.call('ZCARD', log)
  local used = settled + redis.call('ZCARD', flying)
  if used < limit then return 0 end
  -- The (used - limit + 1)th settled entry to expire frees a slot; if even
  -- all of them would not, the requests in flight hold it: ask again soon.
  local index = used - limit
  if index >= settled then return math.min(window, 250) end
  local entry = redis.call('ZRANGE', log, index, index, 'WITHSCORES')
  return math.max(1, tonumber(entry[2]) + window + margin - now)
end
local wait = 0
if gLimit > 0 then wait = math.max(wait, waitFor(KEYS[1], KEYS[5], gLimit, gWindow)) end
if cLimit > 0 then wait = math.max(wait, waitFor(KEYS[2], KEYS[6], cLimit, cWindow)) end
if wait > 0 then return {math.ceil(wait), -1} end
if gLimit > 0 then
  redis.call('ZADD', KEYS[5], now, member)
  redis.call('PEXPIRE', KEYS[5], inFlightMs + 1000)
end
local left = -1
if cLimit > 0 then
  redis.call('ZADD', KEYS[6], now, member)
  redis.call('PEXPIRE', KEYS[6], inFlightMs + 1000)
  left = cLimit - redis.call('ZCARD', KEYS[2]) - redis.call('ZCARD', KEYS[6])
end
return {0, left}
`;

// KEYS: 1 global log, 2 channel log, 3 global in-flight, 4 channel in-flight;
// ARGV: member, global window, channel window (ms, for the logs' expiry).
// The answer came back: the slot leaves in-flight and is logged at now. Only
// a window that had the slot in flight logs it (one without a limit keeps no
// log, which would otherwise grow untrimmed); a slot that outlived
// IN_FLIGHT_MS (the REST timeout) is gone already.
const SETTLE = `${NOW}
local windows = {tonumber(ARGV[2]), tonumber(ARGV[3])}
for i = 1, 2 do
  if redis.call('ZREM', KEYS[i + 2], ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[i], now, ARGV[1])
    redis.call('PEXPIRE', KEYS[i], windows[i] + 60000)
  end
end
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
  flipfixSettle(...args: (string | number)[]): Promise<number>;
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
  readonly #inFlightMs: number;
  #seq = 0;

  constructor(options: RateLimiterOptions) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:rl`;
    this.#global = options.global === undefined ? { limit: 50, windowMs: 1000 } : options.global;
    this.#default = options.defaultChannel === undefined ? { limit: 5, windowMs: 5000 } : options.defaultChannel;
    this.#margin = options.marginMs ?? 100;
    this.#inFlightMs = options.inFlightMs ?? 15_000;
    this.#redis.defineCommand('flipfixReserve', { numberOfKeys: 6, lua: RESERVE });
    this.#redis.defineCommand('flipfixSettle', { numberOfKeys: 4, lua: SETTLE });
    this.#redis.defineCommand('flipfixBlock', { numberOfKeys: 1, lua: BLOCK });
  }

  get #commands(): LimiterCommands {
    return this.#redis as unknown as LimiterCommands;
  }

  /**
   * Reserves one request into `scope` for a caller that does not report back
   * (the legacy webhook path): the request is counted from now for one
   * window, as if answered at once. Resolves 0 when the caller may send now,
   * else the milliseconds to wait.
   */
  async reserve(scope: string): Promise<number> {
    const { waitMs, slot } = await this.reserveSlot(scope);
    await this.settle(scope, slot);
    return waitMs;
  }

  /**
   * Reserves one request into `scope` (a channel id, `edit:<channel>` or
   * `webhook:<id>`). `waitMs` is 0 when the caller may send now, else how long
   * to wait; `remaining` says how many slots are left in the scope's window
   * after this one (null when the scope is unlimited), so a caller taking the
   * last slot can make the most of it. A granted `slot` is in flight until
   * the caller {@link settle}s it (sent and answered) or {@link release}s it
   * (not sent).
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
      `${this.#prefix}:flying:global`,
      `${this.#prefix}:flying:${scope}`,
      member,
      g?.limit ?? 0,
      g?.windowMs ?? 0,
      d?.limit ?? 0,
      d?.windowMs ?? 0,
      this.#margin,
      this.#inFlightMs,
    );
    const [waitMs, left] = result.map(Number) as [number, number];
    // Nothing was logged when the slot was refused or no limit applied.
    const logged = waitMs === 0 && (left >= 0 || g !== null);
    return { waitMs, remaining: left < 0 ? null : left, slot: logged ? member : null };
  }

  /**
   * The answer came back: the slot stops being in flight and is logged at
   * this moment for the window's length. Discord counts a request when it
   * arrives, which can be well after the reservation on a busy machine;
   * timing the slot at the answer keeps the window conservative.
   */
  async settle(scope: string, slot: string | null): Promise<void> {
    if (slot === null) return;
    const channelWindow = this.#default?.windowMs ?? 5000;
    await this.#commands.flipfixSettle(
      `${this.#prefix}:global`,
      `${this.#prefix}:log:${scope}`,
      `${this.#prefix}:flying:global`,
      `${this.#prefix}:flying:${scope}`,
      slot,
      (this.#global?.windowMs ?? 1000) + this.#margin,
      Math.max(channelWindow, 60_000),
    );
  }

  /** Gives a reserved slot back unused (the request was not sent). */
  async release(scope: string, slot: string | null): Promise<void> {
    if (slot === null) return;
    await Promise.all([this.#redis.zrem(`${this.#prefix}:flying:global`, slot), this.#redis.zrem(`${this.#prefix}:flying:${scope}`, slot)]);
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
