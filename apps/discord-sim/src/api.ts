/**
 * Discord's HTTP API v10, the subset the project uses: authentication, rate
 * limits with Discord's headers, injected faults, then the route itself.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ApiErrors, DiscordError, FormErrors } from './errors';
import { computeMentions } from './mentions';
import { bucketHash, type RateLimiter, type RateLimitRule } from './ratelimit';
import { apiChannel, apiMessage, apiWebhook } from './serialize';
import { snowflake } from './snowflake';
import type { SimChannel, SimInteraction, SimMessage, SimState, SimUser, SimWebhook } from './state';
import { type MessageInput, isEmptyMessage, validateMessageBody, validateThreadBody } from './validate';

/** What a route answers: a status and an optional JSON body. */
export interface Answer {
  status: number;
  body?: unknown;
}

/** What the API routes need from the simulator. */
export interface ApiDeps {
  state: SimState;
  limiter: RateLimiter;
  /** Called with unexpected errors (a bug in the simulator), which answer 500. */
  onError?: ((err: unknown) => void) | undefined;
}

type Params = Record<string, string>;
type Auth = 'bot' | 'none';

interface RouteSpec {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Express path. */
  path: string;
  /** Discord's route template, for stats and the bucket hash. */
  key: string;
  auth: Auth;
  /** The major parameter that splits the bucket (channel id, webhook id). */
  major: (p: Params) => string;
  /** Message creation: limited by the per-channel rule instead of the per-route one. */
  creates?: boolean;
  handler: (req: Request, p: Params, now: number) => Answer | Promise<Answer>;
}

/** The interaction follow-up routes stay valid this long, as on Discord. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Builds the router mounted at `/api`, `/api/v10` and `/api/v9`. */
export function createApiRouter(deps: ApiDeps): Router {
  const { state } = deps;
  const router = express.Router();

  router.use((req, _res, next) => {
    // @discordjs/rest sends `/users/%40me`; Discord treats it as `/users/@me`.
    if (req.url.includes('%40')) req.url = req.url.replace(/%40me(?=\/|\?|$)/gi, '@me');
    next();
  });
  router.use(faultMiddleware(state));
  router.use(jsonBody(8 * 1024 * 1024));

  const routes = buildRoutes(state);
  for (const spec of routes) {
    router[spec.method](spec.path, (req, res) => {
      void runRoute(deps, spec, req, res);
    });
  }
  router.use((_req, res) => {
    send(res, 404, ApiErrors.notFound().toBody());
    state.countResponse('unknown route', 404);
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const isJsonError = typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.parse.failed';
    const error = isJsonError ? ApiErrors.invalidJson() : new DiscordError(500, 0, '500: Internal Server Error');
    if (!isJsonError) deps.onError?.(err);
    send(res, error.status, error.toBody());
    state.countResponse('invalid body', error.status);
  });
  return router;
}

/**
 * Answers with plain node calls rather than Express's `res.send` (content
 * negotiation and freshness checks the API does not need): the simulator is
 * on every benchmark's request path, so its cost per request is kept low.
 */
function send(res: Response, status: number, body?: unknown): void {
  res.statusCode = status;
  if (body === undefined) {
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Reads an `application/json` body into `req.body`, as `express.json()` in
 * strict mode does (an object or an array; `{}` for an empty body; errors
 * typed `entity.parse.failed` / `entity.too.large`), at a fraction of its cost.
 */
function jsonBody(limitBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const type = req.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type) || req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (message: string, kind: string, status: number) => {
      if (done) return;
      done = true;
      next(Object.assign(new Error(message), { type: kind, status }));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) fail('request entity too large', 'entity.too.large', 413);
      else if (!done) chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!done) {
        done = true;
        next(err);
      }
    });
    req.on('end', () => {
      if (done) return;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8').trim();
      if (text === '') {
        req.body = {};
      } else {
        if (text[0] !== '{' && text[0] !== '[') return fail('invalid JSON', 'entity.parse.failed', 400);
        try {
          req.body = JSON.parse(text);
        } catch {
          return fail('invalid JSON', 'entity.parse.failed', 400);
        }
      }
      done = true;
      next();
    });
  };
}

function matches(rule: { method?: string; path?: string; channelId?: string }, req: Request): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) return false;
  if (rule.path !== undefined && !req.path.includes(rule.path)) return false;
  if (rule.channelId !== undefined && !req.path.includes(`/channels/${rule.channelId}`)) return false;
  return true;
}

/** Injected faults, applied before anything else, as an unhealthy Discord (or its edge) would. */
function faultMiddleware(state: SimState) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (state.bannedUntil > Date.now()) {
      // Discord's edge (Cloudflare) refuses a bot that made too many invalid requests, for a while.
      state.countResponse(`${req.method} (banned)`, 429);
      res.setHeader('Retry-After', String(Math.ceil((state.bannedUntil - Date.now()) / 1000)));
      res.status(429).type('text/html').send('<html><body><h1>Error 1015</h1><p>You are being rate limited.</p></body></html>');
      return;
    }
    const f = state.faults;
    const drop = f.drop.find((r) => r.remaining > 0 && matches(r, req));
    if (drop) {
      drop.remaining--;
      state.stats.droppedConnections++;
      req.socket.destroy();
      return;
    }
    if (f.latencyMs > 0) await sleep(f.latencyMs);
    let status: number | undefined;
    if (f.outage !== null) {
      if (Date.now() < f.outage.until) status = f.outage.status;
      else f.outage = null;
    }
    if (status === undefined) {
      const rule = f.fail.find((r) => r.remaining > 0 && matches(r, req));
      if (rule) {
        rule.remaining--;
        status = rule.status;
      }
    }
    if (status === undefined) {
      next();
      return;
    }
    state.stats.faultsAnswered++;
    state.countResponse(`${req.method} (fault)`, status);
    if (status === 502) {
      // Discord's edge answers 502 with an HTML page, not JSON.
      res.status(502).type('text/html').send('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>');
      return;
    }
    const message = status === 503 ? '503: Service Unavailable' : '500: Internal Server Error';
    send(res, status, { message, code: 0 });
  };
}

function botToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith('Bot ')) return undefined;
  return header.slice(4);
}

function setBucketHeaders(res: Response, key: string, limit: number, remaining: number, resetAt: number, now: number): void {
  res.setHeader('X-RateLimit-Limit', String(limit));
  res.setHeader('X-RateLimit-Remaining', String(remaining));
  res.setHeader('X-RateLimit-Reset', (resetAt / 1000).toFixed(3));
  res.setHeader('X-RateLimit-Reset-After', (Math.max(0, resetAt - now) / 1000).toFixed(3));
  res.setHeader('X-RateLimit-Bucket', bucketHash(key));
}

function rateLimited(res: Response, retryAfterMs: number, global: boolean): Answer {
  const seconds = Math.max(0.001, retryAfterMs / 1000);
  res.setHeader('Retry-After', String(Math.ceil(seconds)));
  res.setHeader('X-RateLimit-Scope', global ? 'global' : 'user');
  if (global) res.setHeader('X-RateLimit-Global', 'true');
  return { status: 429, body: { message: 'You are being rate limited.', retry_after: Number(seconds.toFixed(3)), global } };
}

async function runRoute(deps: ApiDeps, spec: RouteSpec, req: Request, res: Response): Promise<void> {
  const { state } = deps;
  const now = Date.now();
  const params = req.params as Params;
  let answer: Answer;
  try {
    answer = await answerRoute(deps, spec, req, res, params, now);
  } catch (err) {
    if (err instanceof DiscordError) answer = { status: err.status, body: err.toBody() };
    else {
      deps.onError?.(err);
      answer = { status: 500, body: { message: '500: Internal Server Error', code: 0 } };
    }
  }
  if (answer.status === 429 && (answer.body as { global?: boolean }).global) state.stats.globalRateLimited++;
  state.countResponse(spec.key, answer.status);
  if (!res.writableEnded && !res.destroyed) send(res, answer.status, answer.body);
}

async function answerRoute(deps: ApiDeps, spec: RouteSpec, req: Request, res: Response, params: Params, now: number): Promise<Answer> {
  const { state, limiter } = deps;
  if (spec.auth === 'bot') {
    const token = botToken(req);
    if (token === undefined || state.faults.tokenRevoked || !state.tokens.has(token)) throw ApiErrors.unauthorized();
    const global = state.rateLimits.global;
    if (global !== null) {
      const g = limiter.take(`global:${token}`, global, now);
      if (g.limited) return rateLimited(res, g.resetAt - now, true);
    }
  }
  const rule: RateLimitRule | null = spec.creates ? state.rateLimits.perChannel : state.rateLimits.perRoute;
  if (rule !== null) {
    const bucket = limiter.take(`${spec.key}:${spec.major(params)}`, rule, now);
    setBucketHeaders(res, spec.key, bucket.limit, bucket.remaining, bucket.resetAt, now);
    if (bucket.limited) return rateLimited(res, bucket.resetAt - now, false);
  }
  return spec.handler(req, params, now);
}

/** Reads a boolean query flag the way Discord does (`true`/`1`). */
function queryFlag(value: unknown): boolean {
  return value === 'true' || value === '1' || value === 'True';
}

function queryString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const UNICODE_EMOJI = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u200d\ufe0f\u20e3#*0-9])+$/u;
const EMOJI_CORE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** Parses a reaction emoji path segment: a Unicode emoji or `name:id` of a custom emoji the guild has. */
function parseEmoji(state: SimState, raw: string): { id: string | null; name: string } {
  const custom = /^a?:?([\w~-]{2,32}):(\d{17,20})$/.exec(raw);
  if (custom) {
    const name = state.customEmojis.get(custom[2]!);
    if (name === undefined) throw ApiErrors.unknownEmoji();
    return { id: custom[2]!, name };
  }
  if (raw.length <= 32 && UNICODE_EMOJI.test(raw) && EMOJI_CORE.test(raw)) return { id: null, name: raw };
  throw ApiErrors.unknownEmoji();
}

function buildRoutes(state: SimState): RouteSpec[] {
  const byChannel = (p: Params) => p.channelId ?? '';
  const byWebhook = (p: Params) => p.webhookId ?? '';
  const none = () => '';

  /** The channel, when it exists and the bot can see it. */
  const visibleChannel = (channelId: string): SimChannel => {
    const channel = state.channels.get(channelId);
    if (!channel) throw ApiErrors.unknownChannel();
    if (!state.permissionsOf(channel).view) throw ApiErrors.missingAccess();
    return channel;
  };
  const sendableChannel = (channelId: string): SimChannel => {
    const channel = visibleChannel(channelId);
    if (!state.permissionsOf(channel).send) throw ApiErrors.missingPermissions();
    return channel;
  };
  const existingMessage = (channel: SimChannel, messageId: string): SimMessage => {
    const message = state.message(channel.id, messageId);
    if (!message) throw ApiErrors.unknownMessage();
    return message;
  };

  /** `GET /guilds/{guild.id}/<list>`: the simulated guild's list, Unknown Guild for any other. */
  const guildRoute = (list: string, items: () => unknown[]): RouteSpec => ({
    method: 'get',
    path: `/guilds/:guildId/${list}`,
    key: `GET /guilds/{guild.id}/${list}`,
    auth: 'bot',
    major: (p) => p.guildId ?? '',
    handler: (_req, p) => {
      if (p.guildId !== state.settings.guildId) throw ApiErrors.unknownGuild();
      return { status: 200, body: items() };
    },
  });

  const routes: RouteSpec[] = [
    {
      method: 'get',
      path: '/users/@me',
      key: 'GET /users/@me',
      auth: 'bot',
      major: none,
      handler: () => ({ status: 200, body: state.botUser }),
    },
    {
      method: 'get',
      path: '/channels/:channelId',
      key: 'GET /channels/{channel.id}',
      auth: 'bot',
      major: byChannel,
      handler: (_req, p) => ({ status: 200, body: apiChannel(visibleChannel(p.channelId!)) }),
    },
    // The guild's channels (threads excluded) and roles, as Discord lists them: the console picks them by name.
    guildRoute('channels', () => [...state.channels.values()].filter((c) => c.type !== 11).map((c) => apiChannel(c))),
    guildRoute('roles', () =>
      [...state.roles.values()].map((r) => ({ ...r, hoist: false, icon: null, unicode_emoji: null, permissions: '0', flags: 0 })),
    ),
    {
      method: 'patch',
      path: '/channels/:channelId',
      key: 'PATCH /channels/{channel.id}',
      auth: 'bot',
      major: byChannel,
      handler: (req, p, now) => {
        const channel = sendableChannel(p.channelId!);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const errors = new FormErrors();
        if (body.name !== undefined) {
          if (typeof body.name !== 'string' || body.name.length < 1 || body.name.length > 100) {
            errors.add(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
          }
        }
        const meta = channel.thread_metadata;
        if (meta === undefined && (body.archived !== undefined || body.locked !== undefined)) {
          throw new DiscordError(400, 50024, 'Cannot execute action on this channel type');
        }
        errors.throwIfAny();
        if (typeof body.name === 'string') channel.name = body.name;
        if (meta) {
          if (typeof body.archived === 'boolean' && body.archived !== meta.archived) {
            meta.archived = body.archived;
            meta.archive_timestamp = new Date(now).toISOString();
          }
          if (typeof body.locked === 'boolean') meta.locked = body.locked;
          if ([60, 1440, 4320, 10080].includes(body.auto_archive_duration as number)) {
            meta.auto_archive_duration = body.auto_archive_duration as number;
          }
        }
        state.version++;
        return { status: 200, body: apiChannel(channel) };
      },
    },
    {
      method: 'get',
      path: '/channels/:channelId/messages',
      key: 'GET /channels/{channel.id}/messages',
      auth: 'bot',
      major: byChannel,
      handler: (req, p) => {
        const channel = visibleChannel(p.channelId!);
        let limit = 50;
        if (req.query.limit !== undefined) {
          limit = Number(req.query.limit);
          const errors = new FormErrors();
          if (!Number.isInteger(limit)) errors.add(['limit'], 'NUMBER_TYPE_COERCE', `Value "${String(req.query.limit)}" is not int.`);
          else if (limit < 1) errors.add(['limit'], 'NUMBER_TYPE_MIN', 'int value should be greater than or equal to 1.');
          else if (limit > 100) errors.add(['limit'], 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 100.');
          errors.throwIfAny();
        }
        const before = queryString(req.query.before);
        const after = queryString(req.query.after);
        let list = state.messages(channel.id);
        if (before !== undefined) list = list.filter((m) => BigInt(m.id) < BigInt(before));
        if (after !== undefined) {
          list = list.filter((m) => BigInt(m.id) > BigInt(after));
          // `after` pages forward from the oldest; the answer is still newest first.
          list = list.slice(0, limit);
        } else list = list.slice(-limit);
        return { status: 200, body: list.map((m) => apiMessage(state, m)).reverse() };
      },
    },
    {
      method: 'get',
      path: '/channels/:channelId/messages/:messageId',
      key: 'GET /channels/{channel.id}/messages/{message.id}',
      auth: 'bot',
      major: byChannel,
      handler: (_req, p) => {
        const channel = visibleChannel(p.channelId!);
        return { status: 200, body: apiMessage(state, existingMessage(channel, p.messageId!)) };
      },
    },
    {
      method: 'post',
      path: '/channels/:channelId/messages',
      key: 'POST /channels/{channel.id}/messages',
      auth: 'bot',
      major: byChannel,
      creates: true,
      handler: (req, p, now) => {
        const channel = sendableChannel(p.channelId!);
        const input = validateMessageBody(req.body, 'create');
        // With enforce_nonce a repeated nonce answers the first message, still 200.
        const { message } = postMessage(state, channel, input, state.botUser, now, {});
        return { status: 200, body: apiMessage(state, message) };
      },
    },
    {
      method: 'patch',
      path: '/channels/:channelId/messages/:messageId',
      key: 'PATCH /channels/{channel.id}/messages/{message.id}',
      auth: 'bot',
      major: byChannel,
      handler: (req, p, now) => {
        const channel = visibleChannel(p.channelId!);
        const message = existingMessage(channel, p.messageId!);
        if (message.author.id !== state.botUser.id || message.webhook_id !== undefined) throw ApiErrors.cannotEditOthers();
        if (channel.thread_metadata?.archived) throw ApiErrors.threadArchived();
        state.allowEdit(message, now);
        editMessage(state, message, validateMessageBody(req.body, 'edit'), req.body, now);
        return { status: 200, body: apiMessage(state, message) };
      },
    },
    {
      method: 'delete',
      path: '/channels/:channelId/messages/:messageId',
      key: 'DELETE /channels/{channel.id}/messages/{message.id}',
      auth: 'bot',
      major: byChannel,
      handler: (_req, p) => {
        const channel = visibleChannel(p.channelId!);
        existingMessage(channel, p.messageId!);
        state.removeMessage(channel.id, p.messageId!);
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/channels/:channelId/messages/:messageId/threads',
      key: 'POST /channels/{channel.id}/messages/{message.id}/threads',
      auth: 'bot',
      major: byChannel,
      handler: (req, p, now) => {
        const channel = sendableChannel(p.channelId!);
        const message = existingMessage(channel, p.messageId!);
        if (channel.type !== 0) throw new DiscordError(400, 50024, 'Cannot execute action on this channel type');
        if (message.thread_id !== undefined) throw ApiErrors.threadAlreadyCreated();
        const body = validateThreadBody(req.body);
        const iso = new Date(now).toISOString();
        // On Discord a thread started from a message has the message's id.
        const thread = state.upsertChannel({ id: message.id, name: body.name, type: 11, permissions: { view: true, send: true } });
        thread.parent_id = channel.id;
        thread.owner_id = state.botUser.id;
        thread.thread_metadata = {
          archived: false,
          auto_archive_duration: body.auto_archive_duration,
          archive_timestamp: iso,
          locked: false,
          create_timestamp: iso,
        };
        message.thread_id = thread.id;
        state.stats.threadsCreated++;
        state.version++;
        return { status: 201, body: apiChannel(thread) };
      },
    },
    {
      method: 'put',
      path: '/channels/:channelId/messages/:messageId/reactions/:emoji/@me',
      key: 'PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me',
      auth: 'bot',
      major: byChannel,
      handler: (_req, p) => {
        const channel = visibleChannel(p.channelId!);
        const message = existingMessage(channel, p.messageId!);
        const emoji = parseEmoji(state, p.emoji!);
        if (channel.thread_metadata?.archived) throw ApiErrors.threadArchived();
        const existing = message.reactions.find((r) => r.emoji.name === emoji.name && r.emoji.id === emoji.id);
        if (existing) {
          if (!existing.me) {
            existing.me = true;
            existing.count++;
          }
        } else message.reactions.push({ emoji, count: 1, me: true });
        state.stats.reactionsAdded++;
        state.version++;
        return { status: 204 };
      },
    },
    {
      method: 'delete',
      path: '/channels/:channelId/messages/:messageId/reactions/:emoji/@me',
      key: 'DELETE /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me',
      auth: 'bot',
      major: byChannel,
      handler: (_req, p) => {
        const channel = visibleChannel(p.channelId!);
        const message = existingMessage(channel, p.messageId!);
        const emoji = parseEmoji(state, p.emoji!);
        const i = message.reactions.findIndex((r) => r.emoji.name === emoji.name && r.emoji.id === emoji.id && r.me);
        if (i >= 0) {
          const r = message.reactions[i]!;
          r.me = false;
          r.count--;
          if (r.count <= 0) message.reactions.splice(i, 1);
          state.version++;
        }
        return { status: 204 };
      },
    },
    {
      method: 'get',
      path: '/webhooks/:webhookId/:webhookToken',
      key: 'GET /webhooks/{webhook.id}/{webhook.token}',
      auth: 'none',
      major: byWebhook,
      handler: (_req, p) => ({ status: 200, body: apiWebhook(resolveWebhook(state, p)) }),
    },
    {
      method: 'post',
      path: '/webhooks/:webhookId/:webhookToken',
      key: 'POST /webhooks/{webhook.id}/{webhook.token}',
      auth: 'none',
      major: byWebhook,
      creates: true,
      handler: (req, p, now) => {
        const interaction = findInteraction(state, p, now);
        if (interaction) return followUp(state, interaction, req.body, now);
        const webhook = resolveWebhook(state, p);
        const input = validateMessageBody(req.body, 'webhook');
        const channel = webhookTarget(state, webhook, queryString(req.query.thread_id));
        const author: SimUser = {
          id: webhook.id,
          username: input.username ?? webhook.name,
          discriminator: '0000',
          global_name: null,
          avatar: null,
          bot: true,
        };
        const { message } = postMessage(state, channel, input, author, now, { webhook_id: webhook.id });
        state.stats.webhookExecutions++;
        return queryFlag(req.query.wait) ? { status: 200, body: apiMessage(state, message) } : { status: 204 };
      },
    },
    {
      method: 'get',
      path: '/webhooks/:webhookId/:webhookToken/messages/:messageId',
      key: 'GET /webhooks/{webhook.id}/{webhook.token}/messages/{message.id}',
      auth: 'none',
      major: byWebhook,
      handler: (req, p, now) => {
        const message = webhookMessage(state, p, queryString(req.query.thread_id), now);
        return { status: 200, body: apiMessage(state, message) };
      },
    },
    {
      method: 'patch',
      path: '/webhooks/:webhookId/:webhookToken/messages/:messageId',
      key: 'PATCH /webhooks/{webhook.id}/{webhook.token}/messages/{message.id}',
      auth: 'none',
      major: byWebhook,
      handler: (req, p, now) => {
        const interaction = findInteraction(state, p, now);
        if (interaction && p.messageId === '@original') return editOriginal(state, interaction, req.body, now);
        const message = webhookMessage(state, p, queryString(req.query.thread_id), now);
        const channel = state.channels.get(message.channel_id);
        if (channel?.thread_metadata?.archived) throw ApiErrors.threadArchived();
        editMessage(state, message, validateMessageBody(req.body, 'webhookEdit'), req.body, now);
        return { status: 200, body: apiMessage(state, message) };
      },
    },
    {
      method: 'delete',
      path: '/webhooks/:webhookId/:webhookToken/messages/:messageId',
      key: 'DELETE /webhooks/{webhook.id}/{webhook.token}/messages/{message.id}',
      auth: 'none',
      major: byWebhook,
      handler: (req, p, now) => {
        const message = webhookMessage(state, p, queryString(req.query.thread_id), now);
        state.removeMessage(message.channel_id, message.id);
        return { status: 204 };
      },
    },
  ];
  return routes;
}

/** The webhook named by the path, or Discord's 404 10015 / 401 50027. */
function resolveWebhook(state: SimState, p: Params): SimWebhook {
  const webhook = state.webhooks.get(p.webhookId ?? '');
  if (!webhook) throw ApiErrors.unknownWebhook();
  if (webhook.token !== p.webhookToken) throw ApiErrors.invalidWebhookToken();
  return webhook;
}

/** An interaction whose follow-up routes the path names (application id + interaction token). */
function findInteraction(state: SimState, p: Params, now: number): SimInteraction | undefined {
  if (p.webhookId !== state.botUser.id) return undefined;
  const interaction = state.interactions.get(p.webhookToken ?? '');
  if (!interaction) throw ApiErrors.unknownWebhook();
  if (now - interaction.created_at > INTERACTION_TOKEN_TTL_MS) throw ApiErrors.invalidWebhookToken();
  return interaction;
}

/** The webhook's channel, or the thread `thread_id` names inside it. */
function webhookTarget(state: SimState, webhook: SimWebhook, threadId: string | undefined): SimChannel {
  const channel = state.channels.get(threadId ?? webhook.channel_id);
  if (!channel) throw ApiErrors.unknownChannel();
  if (threadId !== undefined && channel.parent_id !== webhook.channel_id) throw ApiErrors.unknownChannel();
  return channel;
}

function webhookMessage(state: SimState, p: Params, threadId: string | undefined, now: number): SimMessage {
  const interaction = findInteraction(state, p, now);
  if (interaction) {
    const id = p.messageId === '@original' ? interaction.original_message_id : p.messageId;
    const message = id === undefined ? undefined : state.message(interaction.channel_id, id);
    if (!message) throw ApiErrors.unknownMessage();
    return message;
  }
  const webhook = resolveWebhook(state, p);
  const channel = webhookTarget(state, webhook, threadId);
  const message = state.message(channel.id, p.messageId ?? '');
  if (!message || message.webhook_id !== webhook.id) throw ApiErrors.unknownMessage();
  return message;
}

/**
 * Creates a message, or with `enforce_nonce` returns the earlier one with the
 * same nonce. A message sent into an archived (unlocked) thread unarchives it,
 * as Discord does for senders allowed to post there.
 */
export function postMessage(
  state: SimState,
  channel: SimChannel,
  input: MessageInput,
  author: SimUser,
  now: number,
  extra: Partial<Pick<SimMessage, 'webhook_id' | 'application_id' | 'interaction_metadata' | 'type'>> & { allowEmpty?: boolean },
): { message: SimMessage; created: boolean } {
  if (input.enforce_nonce && input.nonce !== undefined) {
    const earlier = state.findNonce(author.id, channel.id, input.nonce, now);
    if (earlier) return { message: earlier, created: false };
  }
  if (!extra.allowEmpty && isEmptyMessage(input)) throw ApiErrors.emptyMessage();
  const meta = channel.thread_metadata;
  if (meta?.archived) {
    if (meta.locked) throw ApiErrors.threadArchived();
    meta.archived = false;
    meta.archive_timestamp = new Date(now).toISOString();
  }
  const mentions = computeMentions(input.content, input.allowed_mentions);
  const message: SimMessage = {
    id: snowflake(now),
    type: extra.type ?? 0,
    channel_id: channel.id,
    author,
    content: input.content ?? '',
    timestamp: new Date(now).toISOString(),
    edited_timestamp: null,
    tts: input.tts ?? false,
    mention_everyone: mentions.mention_everyone,
    mentions: mentions.users.map(mentionedUser),
    mention_roles: mentions.roles,
    attachments: input.attachments ?? [],
    embeds: input.embeds ?? [],
    components: input.components ?? [],
    reactions: [],
    pinned: false,
    flags: input.flags ?? 0,
    sim: { ephemeral: [] },
  };
  if (input.nonce !== undefined) message.nonce = input.nonce;
  if (input.allowed_mentions !== undefined) message.sim.allowed_mentions = input.allowed_mentions;
  if (input.message_reference !== undefined) message.message_reference = input.message_reference;
  if (extra.webhook_id !== undefined) message.webhook_id = extra.webhook_id;
  if (extra.application_id !== undefined) message.application_id = extra.application_id;
  if (extra.interaction_metadata !== undefined) message.interaction_metadata = extra.interaction_metadata;
  state.addMessage(message);
  if (input.nonce !== undefined) state.rememberNonce(author.id, channel.id, input.nonce, message, now);
  return { message, created: true };
}

function mentionedUser(id: string): SimUser {
  return { id, username: `user-${id.slice(-4)}`, discriminator: '0', global_name: null, avatar: null };
}

/** Applies an edit: fields present in the body replace the stored ones; mentions are computed again. */
export function editMessage(state: SimState, message: SimMessage, input: MessageInput, rawBody: unknown, now: number): void {
  const body = (typeof rawBody === 'object' && rawBody !== null ? rawBody : {}) as Record<string, unknown>;
  const next = {
    content: 'content' in body ? (input.content ?? '') : message.content,
    embeds: 'embeds' in body ? (input.embeds ?? []) : message.embeds,
    components: 'components' in body ? (input.components ?? []) : message.components,
    attachments: 'attachments' in body ? (input.attachments ?? []) : message.attachments,
  };
  if (isEmptyMessage(next)) throw ApiErrors.emptyMessage();
  message.content = next.content;
  message.embeds = next.embeds;
  message.components = next.components;
  message.attachments = next.attachments;
  if (input.flags !== undefined) message.flags = input.flags;
  if (input.allowed_mentions !== undefined) message.sim.allowed_mentions = input.allowed_mentions;
  const mentions = computeMentions(message.content, message.sim.allowed_mentions);
  message.mention_everyone = mentions.mention_everyone;
  message.mentions = mentions.users.map(mentionedUser);
  message.mention_roles = mentions.roles;
  message.edited_timestamp = new Date(now).toISOString();
  if (message.sim.deferred) {
    // The first edit of a deferred ("thinking") response replaces it without an "(edited)" mark.
    message.sim.deferred = false;
    message.edited_timestamp = null;
    message.flags &= ~128;
  }
  state.stats.messagesEdited++;
  state.version++;
}

/** `POST /webhooks/{application.id}/{interaction.token}`: a follow-up message. */
function followUp(state: SimState, interaction: SimInteraction, body: unknown, now: number): Answer {
  const input = validateMessageBody(body, 'interaction');
  const original = interaction.original_message_id === undefined ? undefined : state.message(interaction.channel_id, interaction.original_message_id);
  // Discord turns the first follow-up after a deferred response into that response.
  if (original?.sim.deferred) {
    editMessage(state, original, input, body, now);
    return { status: 200, body: apiMessage(state, original) };
  }
  const source = state.message(interaction.channel_id, interaction.message_id);
  if ((input.flags ?? 0) & 64) {
    if (isEmptyMessage(input)) throw ApiErrors.emptyMessage();
    const reply = ephemeralReply(interaction, input, now);
    source?.sim.ephemeral.push(reply);
    state.version++;
    return { status: 200, body: { id: reply.interaction_id, content: reply.content, embeds: reply.embeds, flags: 64 } };
  }
  const channel = state.channels.get(interaction.channel_id);
  if (!channel) throw ApiErrors.unknownChannel();
  const { message } = postMessage(state, channel, input, state.botUser, now, {
    webhook_id: interaction.application_id,
    application_id: interaction.application_id,
  });
  return { status: 200, body: apiMessage(state, message) };
}

/** `PATCH /webhooks/{application.id}/{interaction.token}/messages/@original`. */
function editOriginal(state: SimState, interaction: SimInteraction, body: unknown, now: number): Answer {
  const input = validateMessageBody(body, 'interaction');
  const id = interaction.original_is_source ? interaction.message_id : interaction.original_message_id;
  if (interaction.ephemeral) {
    const source = state.message(interaction.channel_id, interaction.message_id);
    const reply = source?.sim.ephemeral.find((r) => r.interaction_id === interaction.id);
    if (!reply) throw ApiErrors.unknownMessage();
    if (input.content !== undefined) reply.content = input.content;
    if (input.embeds !== undefined) reply.embeds = input.embeds;
    if (input.components !== undefined) reply.components = input.components;
    state.version++;
    return { status: 200, body: { id: reply.interaction_id, content: reply.content, embeds: reply.embeds, flags: 64 } };
  }
  const message = id === undefined ? undefined : state.message(interaction.channel_id, id);
  if (!message) throw ApiErrors.unknownMessage();
  editMessage(state, message, input, body, now);
  return { status: 200, body: apiMessage(state, message) };
}

/** A reply only the clicking user sees. */
export function ephemeralReply(interaction: SimInteraction, input: MessageInput, now: number) {
  return {
    interaction_id: interaction.id,
    user: interaction.user,
    content: input.content ?? '',
    embeds: input.embeds ?? [],
    components: input.components ?? [],
    timestamp: new Date(now).toISOString(),
  };
}
