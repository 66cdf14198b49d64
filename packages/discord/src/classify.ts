/**
 * The one place that decides what a failed Discord call means: wait
 * (rate limited), retry with backoff (transient) or stop (permanent, with
 * what is broken: the token, the channel, a webhook...). Reasons are for
 * people (console, ledger) and never contain a token or a webhook URL.
 */
import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest';

/** What is wrong when a failure is permanent. */
export type PermanentTarget = 'token' | 'channel' | 'webhook' | 'message' | 'body' | 'permission' | 'other';

/** The outcome of {@link classifyDiscordError}. */
export type DiscordFailure =
  | { kind: 'rate_limited'; retryAfterMs: number; global: boolean; scope?: string; reason: string }
  | { kind: 'transient'; reason: string; status?: number }
  | { kind: 'permanent'; reason: string; code?: number; status?: number; target: PermanentTarget };

/** Wait used when a 429 carries no usable retry time. */
const DEFAULT_RETRY_AFTER_MS = 1000;

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
]);

const NETWORK_MESSAGES = /other side closed|fetch failed|socket hang up|network|terminated|timed? ?out/i;

/**
 * Removes secrets a message might carry: webhook tokens in URLs, `Bot …`
 * authorization values and anything shaped like a Discord bot token.
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/(\/webhooks\/\d+\/)[^/?\s#]+/gi, '$1***')
    .replace(/\b(Bot|Bearer)\s+[\w.-]+/g, '$1 ***')
    .replace(/[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}/g, '***');
}

interface RouteInfo {
  channelId?: string;
  webhookId?: string;
  messageId?: string;
  thread: boolean;
  reaction: boolean;
}

function routeOf(url: string): RouteInfo {
  const path = (() => {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  })();
  const info: RouteInfo = { thread: /\/threads(\/|$)/.test(path), reaction: /\/reactions\//.test(path) };
  const channel = /\/channels\/(\d+)/.exec(path);
  if (channel?.[1]) info.channelId = channel[1];
  const webhook = /\/webhooks\/(\d+)/.exec(path);
  if (webhook?.[1]) info.webhookId = webhook[1];
  const message = /\/messages\/(\d+)/.exec(path);
  if (message?.[1]) info.messageId = message[1];
  return info;
}

function firstLine(text: string, max = 200): string {
  const line = scrubSecrets(text.split('\n').slice(0, 3).join('; '));
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What the bot needed, by route, for a "Missing Permissions" answer. */
function missingPermission(route: RouteInfo, method: string): string {
  if (route.reaction) return 'Add Reactions / Read Message History';
  if (route.thread) return 'Create Public Threads';
  if (method === 'PATCH') return 'Manage Messages (or the message is not the bot’s)';
  return 'Send Messages / Embed Links';
}

function where(route: RouteInfo): string {
  if (route.webhookId) return `webhook ${route.webhookId}`;
  if (route.channelId) return `channel ${route.channelId}`;
  return 'the target';
}

function retryAfterFromBody(raw: unknown): number | null {
  if (typeof raw !== 'object' || raw === null || !('retry_after' in raw)) return null;
  const value = Number((raw as { retry_after: unknown }).retry_after);
  return Number.isFinite(value) && value >= 0 ? Math.ceil(value * 1000) : null;
}

function fromApiError(err: DiscordAPIError): DiscordFailure {
  const status = err.status;
  const code = typeof err.code === 'number' ? err.code : undefined;
  const route = routeOf(err.url);
  const method = err.method.toUpperCase();
  const tag = code === undefined ? `${status}` : `${code}`;
  const base = { status, ...(code === undefined ? {} : { code }) };
  const message = firstLine(err.message);

  if (status === 429) {
    const raw = err.rawError as unknown;
    const global = typeof raw === 'object' && raw !== null && (raw as { global?: unknown }).global === true;
    const retryAfterMs = retryAfterFromBody(raw) ?? DEFAULT_RETRY_AFTER_MS;
    return { kind: 'rate_limited', retryAfterMs, global, reason: `rate limited on ${where(route)} for ${retryAfterMs} ms` };
  }
  if (status >= 500 || status === 408) return { kind: 'transient', status, reason: `Discord answered ${status}: ${message}` };

  if (route.webhookId !== undefined) {
    if (code === 10015 || status === 404) return { ...base, kind: 'permanent', target: 'webhook', reason: `unknown webhook ${route.webhookId} (${tag}): it was deleted` };
    if (code === 50027 || status === 401) return { ...base, kind: 'permanent', target: 'webhook', reason: `webhook ${route.webhookId} has an invalid token (${tag})` };
  }
  if (status === 401) return { ...base, kind: 'permanent', target: 'token', reason: `Discord rejects the bot token (${tag})` };

  switch (code) {
    case 10003:
      return { ...base, kind: 'permanent', target: 'channel', reason: route.channelId ? `unknown channel ${route.channelId} (10003)` : 'unknown channel (10003)' };
    case 10008:
      return { ...base, kind: 'permanent', target: 'message', reason: `unknown message ${route.messageId ?? ''} in ${where(route)} (10008)` };
    case 10014:
      return { ...base, kind: 'permanent', target: 'body', reason: 'unknown emoji (10014)' };
    case 50001:
      return { ...base, kind: 'permanent', target: 'permission', reason: `the bot cannot see ${where(route)} (50001 Missing Access)` };
    case 50013:
      return {
        ...base,
        kind: 'permanent',
        target: 'permission',
        reason: `the bot lacks ${missingPermission(route, method)} in ${where(route)} (50013)`,
      };
    case 50005:
      return { ...base, kind: 'permanent', target: 'message', reason: 'the message was not sent by the bot, so it cannot be edited (50005)' };
    case 50008:
      return { ...base, kind: 'permanent', target: 'channel', reason: `${where(route)} is not a text channel (50008)` };
    case 50083:
      return { ...base, kind: 'permanent', target: 'channel', reason: `the thread in ${where(route)} is archived (50083)` };
    case 30046:
      return { ...base, kind: 'permanent', target: 'message', reason: 'Discord refuses more edits to this message, older than an hour (30046)' };
    case 160004:
      return { ...base, kind: 'permanent', target: 'message', reason: 'a thread was already created for this message (160004)' };
    case 50035:
      return { ...base, kind: 'permanent', target: 'body', reason: `Discord rejects the message body (50035): ${message}` };
    case 50006:
      return { ...base, kind: 'permanent', target: 'body', reason: 'Discord rejects an empty message (50006)' };
    case 50109:
      return { ...base, kind: 'permanent', target: 'body', reason: 'Discord rejects the request body as invalid JSON (50109)' };
    case 40001:
    case 20001:
    case 20012:
      return { ...base, kind: 'permanent', target: 'token', reason: `the bot is not authorized for this request (${tag})` };
    default:
      break;
  }
  if (status === 403) return { ...base, kind: 'permanent', target: 'permission', reason: `Discord forbids this request on ${where(route)} (${tag}): ${message}` };
  if (status === 404) {
    const target: PermanentTarget = route.messageId ? 'message' : route.channelId ? 'channel' : 'other';
    return { ...base, kind: 'permanent', target, reason: `not found: ${where(route)} (${tag})` };
  }
  if (status === 400 || status === 413) return { ...base, kind: 'permanent', target: 'body', reason: `Discord rejects the request (${tag}): ${message}` };
  return { ...base, kind: 'permanent', target: 'other', reason: `Discord answered ${status} (${tag}): ${message}` };
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The error and its `cause` chain (fetch wraps socket errors as `TypeError: fetch failed`). */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  while (cur !== undefined && cur !== null && out.length < 5 && !out.includes(cur)) {
    out.push(cur);
    cur = typeof cur === 'object' ? (cur as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function looksLike<T>(err: unknown, name: string): err is T {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' && (err as { name: string }).name.startsWith(name);
}

/**
 * Classifies any error thrown by a Discord call: @discordjs/rest's
 * `RateLimitError` (thrown because the client rejects on rate limits),
 * `DiscordAPIError` (4xx with Discord's JSON code), `HTTPError` (5xx and
 * other non-JSON answers), aborts and timeouts, and Node/undici network
 * errors. Anything unrecognized is transient: retried with backoff, then
 * failed by the queue's attempt limit.
 */
export function classifyDiscordError(err: unknown): DiscordFailure {
  if (err instanceof RateLimitError || looksLike<RateLimitError>(err, 'RateLimitError')) {
    const retryAfterMs = Math.max(0, Math.ceil(Number(err.retryAfter) || Number(err.timeToReset) || DEFAULT_RETRY_AFTER_MS));
    const route = typeof err.route === 'string' ? err.route : 'a route';
    return {
      kind: 'rate_limited',
      retryAfterMs,
      global: err.global === true,
      ...(typeof err.scope === 'string' ? { scope: err.scope } : {}),
      reason: `rate limited${err.global ? ' (global)' : ''} on ${scrubSecrets(route)} for ${retryAfterMs} ms`,
    };
  }
  if (err instanceof DiscordAPIError || looksLike<DiscordAPIError>(err, 'DiscordAPIError')) {
    return fromApiError(err);
  }
  if (err instanceof HTTPError || looksLike<HTTPError>(err, 'HTTPError')) {
    const status = err.status;
    if (status === 429) return { kind: 'rate_limited', retryAfterMs: DEFAULT_RETRY_AFTER_MS, global: false, reason: `rate limited (429) for ${DEFAULT_RETRY_AFTER_MS} ms` };
    if (status >= 500 || status === 408) return { kind: 'transient', status, reason: `Discord answered ${status} ${firstLine(err.message, 80)}`.trim() };
    const route = routeOf(err.url);
    return { kind: 'permanent', status, target: status === 401 ? 'token' : 'other', reason: `Discord answered ${status} on ${where(route)}: ${firstLine(err.message, 80)}` };
  }

  for (const e of causes(err)) {
    const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name ?? '') : '';
    if (name === 'AbortError' || name === 'TimeoutError') return { kind: 'transient', reason: 'the request to Discord timed out' };
    const code = errorCode(e);
    if (code !== undefined && NETWORK_CODES.has(code)) return { kind: 'transient', reason: `network error talking to Discord (${code})` };
  }
  for (const e of causes(err)) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (NETWORK_MESSAGES.test(message)) return { kind: 'transient', reason: `network error talking to Discord: ${firstLine(message, 120)}` };
  }
  const text = err instanceof Error ? `${err.name}: ${err.message}` : typeof err === 'object' && err !== null ? 'a non-Error value was thrown' : String(err);
  return { kind: 'transient', reason: `unexpected error: ${firstLine(text, 160)}` };
}
