/**
 * The REST client and the few calls the worker makes. The client never
 * retries and never waits out a rate limit by itself: BullMQ owns retries and
 * schedules waits, so a rate-limited job gives its worker slot back instead
 * of sleeping in it.
 */
import { createHash } from 'node:crypto';
import { REST, RESTEvents } from '@discordjs/rest';
import { Agent } from 'undici';
import {
  type APIMessage,
  type APIThreadChannel,
  type RESTPatchAPIChannelMessageJSONBody,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
  type RESTPostAPIChannelMessageJSONBody,
  type RESTPostAPIChannelMessagesThreadsJSONBody,
  type RESTPostAPIWebhookWithTokenJSONBody,
  Routes,
  type ThreadAutoArchiveDuration,
} from 'discord-api-types/v10';
import { DISCORD_LIMITS } from './limits';

/** Options for {@link createDiscordRest}. */
export interface DiscordRestOptions {
  /** Bot token; left out for a client that only executes webhooks. */
  token?: string;
  /** REST base without version, e.g. `https://discord.com/api` or the simulator's. */
  apiUrl: string;
  /** Per-request timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Set the token on the client (default: true when a token is given). */
  auth?: boolean;
  /**
   * Most connections open to the API at once (default 64); more requests
   * than that wait their turn in the client instead of opening a socket each.
   */
  connections?: number;
  /** The connection pool to use (several clients can share one); overrides `connections`. */
  agent?: Agent;
}

/** Default cap on open connections per client. */
export const DEFAULT_CONNECTIONS = 64;

/** Default per-request timeout: a slow Discord should fail the attempt, not hold a worker. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * An @discordjs/rest client for API v10 with `retries: 0` and
 * `rejectOnRateLimit` always on, so a rate limit (known in advance from the
 * bucket headers, or a 429) throws a `RateLimitError` at once.
 */
export function createDiscordRest(options: DiscordRestOptions): REST {
  const rest = new REST({
    api: options.apiUrl.replace(/\/+$/, ''),
    version: '10',
    retries: 0,
    rejectOnRateLimit: () => true,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // The global limit is per bot, not per process: the worker's shared
    // limiter (Redis) owns it. This client's own per-process counter would
    // refuse requests that no real limit forbids.
    globalRequestsPerSecond: Number.MAX_SAFE_INTEGER,
    agent: options.agent ?? new Agent({ connections: options.connections ?? DEFAULT_CONNECTIONS }),
  });
  if (options.token !== undefined && options.token !== '' && options.auth !== false) rest.setToken(options.token);
  return rest;
}

/**
 * `size` clients on one connection pool. @discordjs/rest sends the requests
 * of one rate-limit bucket (a channel's messages) one at a time, each waiting
 * for the previous answer; spreading posts over several clients lets one
 * process keep several in flight to a channel. Discord's own limits are
 * enforced by the worker's shared limiter either way.
 */
export function createDiscordRestPool(options: DiscordRestOptions, size: number): REST[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  const agent = options.agent ?? new Agent({ connections: options.connections ?? DEFAULT_CONNECTIONS });
  return Array.from({ length: size }, () => createDiscordRest({ ...options, agent }));
}

const SNOWFLAKE = /^\d{1,20}$/;

function snowflake(value: string, what: string): string {
  // Ids go into the URL path: refuse anything that could change the route.
  if (!SNOWFLAKE.test(value)) throw new TypeError(`${what} must be a snowflake`);
  return value;
}

/** Options for {@link postMessage}. */
export interface PostMessageOptions {
  /** ≤ 25 characters, the same for every attempt of one delivery (see {@link nonceFor}). */
  nonce: string;
}

/**
 * `POST /channels/{id}/messages` with `nonce` and `enforce_nonce: true`, so a
 * retried attempt whose first try did reach Discord returns the message
 * created then instead of posting twice.
 */
export async function postMessage(
  rest: REST,
  channelId: string,
  body: RESTPostAPIChannelMessageJSONBody,
  options: PostMessageOptions,
): Promise<APIMessage> {
  if (options.nonce === '' || options.nonce.length > DISCORD_LIMITS.nonce) throw new RangeError('nonce must be 1-25 characters');
  const payload: RESTPostAPIChannelMessageJSONBody = { ...body, nonce: options.nonce, enforce_nonce: true };
  return (await rest.post(Routes.channelMessages(snowflake(channelId, 'channelId')), { body: payload })) as APIMessage;
}

/** `PATCH /channels/{id}/messages/{id}`. */
export async function editMessage(
  rest: REST,
  channelId: string,
  messageId: string,
  body: RESTPatchAPIChannelMessageJSONBody,
): Promise<APIMessage> {
  const route = Routes.channelMessage(snowflake(channelId, 'channelId'), snowflake(messageId, 'messageId'));
  return (await rest.patch(route, { body })) as APIMessage;
}

/**
 * `PATCH /channels/{id}` `{archived: false}`: reopens an archived thread, so
 * a message in it can be edited again (Discord answers 50083 until then).
 */
export async function unarchiveThread(rest: REST, threadId: string): Promise<void> {
  await rest.patch(Routes.channel(snowflake(threadId, 'threadId')), { body: { archived: false } });
}

/** `POST /channels/{id}/messages/{id}/threads`: a public thread on a post. */
export async function startThread(
  rest: REST,
  channelId: string,
  messageId: string,
  options: { name: string; autoArchiveDuration?: ThreadAutoArchiveDuration },
): Promise<APIThreadChannel> {
  const body: RESTPostAPIChannelMessagesThreadsJSONBody = { name: options.name.slice(0, DISCORD_LIMITS.threadName) };
  if (options.autoArchiveDuration !== undefined) body.auto_archive_duration = options.autoArchiveDuration;
  const route = Routes.threads(snowflake(channelId, 'channelId'), snowflake(messageId, 'messageId'));
  return (await rest.post(route, { body })) as APIThreadChannel;
}

/**
 * `PUT /channels/{id}/messages/{id}/reactions/{emoji}/@me`. `emoji` is a
 * Unicode emoji or `name:id` for a custom one; it is URL-encoded here.
 */
export async function addReaction(rest: REST, channelId: string, messageId: string, emoji: string): Promise<void> {
  if (emoji === '' || emoji.length > 100) throw new RangeError('emoji must be 1-100 characters');
  const route = Routes.channelMessageOwnReaction(snowflake(channelId, 'channelId'), snowflake(messageId, 'messageId'), encodeURIComponent(emoji));
  await rest.put(route);
}

/** A webhook URL's parts. The token is a secret: never log it. */
export interface WebhookRef {
  id: string;
  token: string;
}

/**
 * `{ id, token }` from a webhook URL such as
 * `https://discord.com/api/webhooks/{id}/{token}` (also `discordapp.com`,
 * `ptb.`/`canary.`, `/api/v10/…`, or any host, e.g. the simulator), or null.
 */
export function parseWebhookUrl(url: string): WebhookRef | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const m = /\/webhooks\/(\d{1,20})\/([\w-]{1,200})\/?$/.exec(parsed.pathname);
  if (!m?.[1] || !m[2]) return null;
  return { id: m[1], token: m[2] };
}

/** The webhook URL with its token hidden, e.g. `https://discord.com/api/webhooks/123/***`; `***` if unparsable. */
export function maskWebhookUrl(url: string): string {
  const ref = parseWebhookUrl(url);
  if (ref === null) return '***';
  const parsed = new URL(url.trim());
  const prefix = parsed.pathname.slice(0, parsed.pathname.lastIndexOf(`/webhooks/${ref.id}/`));
  return `${parsed.origin}${prefix}/webhooks/${ref.id}/***`;
}

function webhookRef(url: string): WebhookRef {
  const ref = parseWebhookUrl(url);
  // The message must not echo the URL: it holds the token.
  if (ref === null) throw new TypeError('not a Discord webhook URL');
  return ref;
}

/**
 * `POST /webhooks/{id}/{token}?wait=true` without bot auth, returning the
 * created message. The request goes to the client's API base, not to the
 * URL's host, so a stored URL cannot redirect traffic elsewhere.
 */
export async function executeWebhook(rest: REST, webhookUrl: string, body: RESTPostAPIWebhookWithTokenJSONBody): Promise<APIMessage> {
  const { id, token } = webhookRef(webhookUrl);
  return (await rest.post(Routes.webhook(id, token), { body, query: new URLSearchParams({ wait: 'true' }), auth: false })) as APIMessage;
}

/** `PATCH /webhooks/{id}/{token}/messages/{id}` without bot auth. */
export async function editWebhookMessage(
  rest: REST,
  webhookUrl: string,
  messageId: string,
  body: RESTPatchAPIWebhookWithTokenMessageJSONBody,
): Promise<APIMessage> {
  const { id, token } = webhookRef(webhookUrl);
  return (await rest.patch(Routes.webhookMessage(id, token, snowflake(messageId, 'messageId')), { body, auth: false })) as APIMessage;
}

/**
 * A deterministic Discord nonce (25 base-36 characters, ~129 bits of
 * SHA-256) for a delivery, so every attempt of one delivery sends the same
 * nonce and different deliveries never share one.
 */
export function nonceFor(deliveryId: string): string {
  const hex = createHash('sha256').update(deliveryId).digest('hex');
  return BigInt(`0x${hex}`).toString(36).padStart(DISCORD_LIMITS.nonce, '0').slice(0, DISCORD_LIMITS.nonce);
}

/** Rate-limit state Discord reported on one response. */
export interface RateLimitHeaders {
  /** `X-RateLimit-Bucket`. */
  bucket: string;
  limit: number | null;
  remaining: number | null;
  resetAfterMs: number | null;
  /** From `Retry-After` on a 429. */
  retryAfterMs: number | null;
  global: boolean;
  scope: string | null;
  /** Bucket route, e.g. `/channels/:id/messages` (webhook tokens already replaced by `:token`). */
  route: string;
  /** Channel, guild or webhook id the bucket is keyed on; never a webhook token. */
  majorParameter: string;
  status: number;
}

function numberHeader(value: string | null): number | null {
  if (value === null || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * Calls `cb` with the rate-limit headers of every response that has a
 * bucket (or is a 429), so the worker can share bucket state across
 * processes. Returns a function that stops listening.
 */
export function onRateLimitHeaders(rest: REST, cb: (info: RateLimitHeaders) => void): () => void {
  const listener = (request: { route: string; path: string }, response: { status: number; headers: Headers }) => {
    const h = response.headers;
    const bucket = h.get('x-ratelimit-bucket');
    if (bucket === null && response.status !== 429) return;
    const resetAfter = numberHeader(h.get('x-ratelimit-reset-after'));
    const retryAfter = numberHeader(h.get('retry-after'));
    // @discordjs/rest keys webhook buckets on "id/token": keep the id only.
    const major = /^\/(?:channels|guilds|webhooks)\/(\d{1,20})/.exec(request.path)?.[1] ?? 'global';
    cb({
      bucket: bucket ?? 'unknown',
      limit: numberHeader(h.get('x-ratelimit-limit')),
      remaining: numberHeader(h.get('x-ratelimit-remaining')),
      resetAfterMs: resetAfter === null ? null : Math.ceil(resetAfter * 1000),
      retryAfterMs: retryAfter === null ? null : Math.ceil(retryAfter * 1000),
      global: h.get('x-ratelimit-global') !== null,
      scope: h.get('x-ratelimit-scope'),
      route: request.route,
      majorParameter: major,
      status: response.status,
    });
  };
  rest.on(RESTEvents.Response, listener);
  return () => {
    rest.off(RESTEvents.Response, listener);
  };
}
