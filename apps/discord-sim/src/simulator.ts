/**
 * The simulator: an HTTP server speaking Discord's API, its control API and
 * its viewer page, over one in-memory {@link SimState}.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SIM_DEFAULTS } from '@flipfix/config';
import express from 'express';
import { createApiRouter } from './api';
import { createControlRouter } from './control';
import { type ClickInput, type ClickResult, clickButton, privateKeyFromSeed } from './interactions';
import { keepStateInFile } from './persistence';
import { RateLimiter, type RateLimitRule } from './ratelimit';
import { apiChannel, apiMessage } from './serialize';
import {
  type RateLimitConfig,
  type SimChannel,
  type SimMessage,
  type SimPermissions,
  SimState,
  type SimStats,
  type SimUser,
} from './state';
import { createViewerRouter } from './viewer';

/** Options of {@link startSimulator}; every one has a default. */
export interface SimOptions {
  /** TCP port; 0 picks a free one (tests). Default: 0. `main.ts` passes 4100. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Bot token accepted in `Authorization: Bot …`. Default `SIM_DEFAULTS.botToken`. */
  token?: string;
  /** Further accepted bot tokens. */
  extraTokens?: string[];
  /** The text channel created at start. Default `SIM_DEFAULTS.channelId`. */
  channelId?: string;
  channelName?: string;
  guildId?: string;
  /** The bot user (its id is also the application id). */
  botUser?: Partial<SimUser>;
  /** Rate limits; `null` for a rule turns it off. Defaults: 5 per 5 s per channel, 50 per s global, 50 per s per other route. */
  rateLimits?: Partial<RateLimitConfig>;
  /** Where button clicks are POSTed, e.g. `http://127.0.0.1:3000/discord/interactions`. Default none. */
  interactionsUrl?: string | null;
  /** Ed25519 seed (hex) used to sign interactions. Default `SIM_DEFAULTS.privateKeySeed`. */
  privateKeySeed?: string;
  /** How long the app has to answer an interaction (Discord: 3 s). */
  interactionTimeoutMs?: number;
  /** Messages kept per channel for display and lookups; counts stay exact. Default 5000. */
  maxMessagesPerChannel?: number;
  /** Edits allowed per hour to a message older than an hour before Discord answers 30046. Default 5. */
  oldMessageEditsPerHour?: number;
  /** 401/403/429 answers in 10 minutes that get the bot banned for 10 minutes (every request 429). Default 10,000, as Discord. */
  invalidRequestLimit?: number;
  /** Called with unexpected errors inside the simulator (which answer 500). */
  onError?: (err: unknown) => void;
  /**
   * A JSON file that keeps channels, messages and webhooks across restarts
   * (read at start, written as they change). Default none: tests start empty.
   */
  stateFile?: string | undefined;
}

/** The default rate limits, close to Discord's. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  perChannel: { limit: 5, windowMs: 5000 },
  global: { limit: 50, windowMs: 1000 },
  perRoute: { limit: 50, windowMs: 1000 },
};

/** The default bot user; its id doubles as the application id. */
export const SIM_BOT_USER: SimUser = {
  id: '1100000000000000010',
  username: 'Flipfix',
  discriminator: '0',
  global_name: 'Flipfix Notify',
  avatar: null,
  bot: true,
};

/** Input of {@link Simulator.createChannel} and `POST /_sim/channels`. */
export interface ChannelInput {
  id?: string | undefined;
  name?: string | undefined;
  type?: number | undefined;
  permissions?: { view?: boolean | undefined; send?: boolean | undefined } | undefined;
}

/** A channel as the control API shows it: Discord's object plus the bot's permissions there. */
export type ChannelView = Record<string, unknown> & { id: string; permissions: SimPermissions; message_count: number };

/** A created webhook: `url` is the full execute URL (it holds the token: treat it as a secret). */
export interface WebhookInfo {
  id: string;
  token: string;
  channelId: string;
  url: string;
}

/** Input of {@link Simulator.configure} and `PATCH /_sim/config`. */
export interface ConfigPatch {
  /** Replaces the accepted bot tokens. */
  tokens?: string[] | undefined;
  rateLimits?:
    | { perChannel?: RateLimitRule | null | undefined; global?: RateLimitRule | null | undefined; perRoute?: RateLimitRule | null | undefined }
    | undefined;
  interactionsUrl?: string | null | undefined;
}

/** The configuration in force (token values are not shown). */
export interface ConfigView {
  tokenCount: number;
  rateLimits: RateLimitConfig;
  interactionsUrl: string | null;
}

/** Input of {@link Simulator.injectFaults} and `POST /_sim/faults`; each part adds to the faults in force. */
export interface FaultInput {
  /** Delay before every API answer. */
  latencyMs?: number | undefined;
  /** The next `count` matching requests answer `status` (500 JSON, 502 HTML from the edge, 503). */
  fail?: { count: number; status?: 500 | 502 | 503 | undefined; method?: string | undefined; path?: string | undefined; channelId?: string | undefined } | undefined;
  /** Every API request answers `status` (default 503) for `durationMs`. */
  outage?: { durationMs: number; status?: 500 | 503 | undefined } | undefined;
  /** The next `count` matching requests get their connection destroyed with no answer. */
  drop?: { count: number; method?: string | undefined; path?: string | undefined; channelId?: string | undefined } | undefined;
  /** true: every bot request answers 401 until set back to false or faults are cleared. */
  revokeToken?: boolean | undefined;
}

/** The faults in force. */
export interface FaultsView {
  latencyMs: number;
  fail: { remaining: number; status: number; method?: string; path?: string; channelId?: string }[];
  drop: { remaining: number; method?: string; path?: string; channelId?: string }[];
  outage: { until: number; status: number } | null;
  tokenRevoked: boolean;
}

/**
 * A stored message as tests and the viewer see it: Discord's message object
 * (with `thread` when one was started from it) plus `allowed_mentions` as sent
 * and the ephemeral replies shown only to the clicking user.
 */
export type MessageView = Record<string, unknown> & {
  id: string;
  channel_id: string;
  content: string;
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  edited_timestamp: string | null;
  mention_everyone: boolean;
  mentions: SimUser[];
  mention_roles: string[];
  allowed_mentions: unknown;
  ephemeral: unknown[];
};

/** Everything, as `GET /_sim/state` returns it. */
export interface StateSnapshot {
  version: number;
  bot: SimUser;
  guildId: string;
  channels: ChannelView[];
  /** Newest `limit` messages per channel (threads included), oldest first. */
  messages: Record<string, MessageView[]>;
  stats: SimStats;
  faults: FaultsView;
  config: ConfigView;
  /** The file that keeps channels, messages and webhooks across restarts, or null when they last only this run. */
  stateFile: string | null;
  /** The guild's roles (the viewer names role mentions with them). */
  roles: { id: string; name: string; color: number }[];
}

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `url + '/api'`, for @discordjs/rest's `api` option. */
  apiUrl: string;
  port: number;
  /** The live state, for direct inspection in tests. */
  state: SimState;
  /** The bot token accepted by default. */
  token: string;
  /** The default text channel's id. */
  channelId: string;
  /** Clears messages, threads, webhooks, stats and faults, and restores the start configuration. */
  reset(): void;
  createChannel(input?: ChannelInput): ChannelView;
  createWebhook(channelId: string, name?: string): WebhookInfo;
  configure(patch: ConfigPatch): ConfigView;
  injectFaults(input: FaultInput): FaultsView;
  clearFaults(): void;
  stats(): SimStats;
  /** Stored messages of a channel or thread, oldest first. */
  messages(channelId: string): MessageView[];
  /** Makes a stored message `byMs` older (to reach Discord's rules for old messages, such as 30046). */
  ageMessage(channelId: string, messageId: string, byMs: number): void;
  /** Archives a thread, as Discord does after its auto-archive duration. */
  archiveThread(threadId: string): void;
  snapshot(limitPerChannel?: number): StateSnapshot;
  /** Clicks a button as a user would: signs and POSTs the interaction to `interactionsUrl`, applies the answer. */
  click(input: ClickInput): Promise<ClickResult>;
  close(): Promise<void>;
}

function channelView(channel: SimChannel): ChannelView {
  return { ...apiChannel(channel), id: channel.id, permissions: { ...channel.permissions }, message_count: channel.message_count };
}

function messageView(state: SimState, message: SimMessage): MessageView {
  return {
    ...(apiMessage(state, message) as MessageView),
    allowed_mentions: message.sim.allowed_mentions ?? null,
    ephemeral: message.sim.ephemeral,
    deferred: message.sim.deferred === true,
  };
}

function faultsView(state: SimState): FaultsView {
  const f = state.faults;
  return {
    latencyMs: f.latencyMs,
    fail: f.fail.filter((r) => r.remaining > 0).map((r) => ({ ...r })),
    drop: f.drop.filter((r) => r.remaining > 0).map((r) => ({ ...r })),
    outage: f.outage !== null && f.outage.until > Date.now() ? { ...f.outage } : null,
    tokenRevoked: f.tokenRevoked,
  };
}

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const token = options.token ?? SIM_DEFAULTS.botToken;
  const channelId = options.channelId ?? SIM_DEFAULTS.channelId;
  const state = new SimState({
    guildId: options.guildId ?? SIM_DEFAULTS.guildId,
    defaultChannelId: channelId,
    defaultChannelName: options.channelName ?? 'machine-notifications',
    tokens: [token, ...(options.extraTokens ?? [])],
    botUser: { ...SIM_BOT_USER, ...options.botUser },
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    interactionsUrl: options.interactionsUrl ?? null,
    maxMessagesPerChannel: options.maxMessagesPerChannel ?? 5000,
    oldMessageEditsPerHour: options.oldMessageEditsPerHour ?? 5,
    invalidRequestLimit: options.invalidRequestLimit ?? 10_000,
  });
  const saved = options.stateFile === undefined ? null : keepStateInFile(state, options.stateFile, { onError: options.onError });
  const limiter = new RateLimiter();
  const privateKey = privateKeyFromSeed(options.privateKeySeed ?? SIM_DEFAULTS.privateKeySeed);
  const timeoutMs = options.interactionTimeoutMs ?? 3000;
  let baseUrl = '';

  const sim: Omit<Simulator, 'url' | 'apiUrl' | 'port' | 'close'> = {
    state,
    token,
    channelId,
    reset() {
      state.reset();
      limiter.clear();
    },
    createChannel(input = {}) {
      return channelView(state.upsertChannel(input));
    },
    createWebhook(forChannel, name) {
      if (!state.channels.has(forChannel)) throw new Error(`unknown channel ${forChannel}`);
      const webhook = state.createWebhook(forChannel, name);
      return { id: webhook.id, token: webhook.token, channelId: forChannel, url: `${baseUrl}/api/webhooks/${webhook.id}/${webhook.token}` };
    },
    configure(patch) {
      if (patch.tokens !== undefined) state.tokens = new Set(patch.tokens);
      if (patch.rateLimits !== undefined) {
        for (const key of ['perChannel', 'global', 'perRoute'] as const) {
          const rule = patch.rateLimits[key];
          if (rule !== undefined) state.rateLimits[key] = rule;
        }
        limiter.clear();
      }
      if (patch.interactionsUrl !== undefined) state.interactionsUrl = patch.interactionsUrl;
      return { tokenCount: state.tokens.size, rateLimits: structuredClone(state.rateLimits), interactionsUrl: state.interactionsUrl };
    },
    injectFaults(input) {
      const f = state.faults;
      if (input.latencyMs !== undefined) f.latencyMs = input.latencyMs;
      if (input.fail !== undefined) {
        const { count, status, ...filter } = input.fail;
        f.fail.push({ remaining: count, status: status ?? 500, ...definedOnly(filter) });
      }
      if (input.drop !== undefined) {
        const { count, ...filter } = input.drop;
        f.drop.push({ remaining: count, ...definedOnly(filter) });
      }
      if (input.outage !== undefined) f.outage = { until: Date.now() + input.outage.durationMs, status: input.outage.status ?? 503 };
      if (input.revokeToken !== undefined) f.tokenRevoked = input.revokeToken;
      return faultsView(state);
    },
    clearFaults() {
      state.faults = { latencyMs: 0, fail: [], drop: [], outage: null, tokenRevoked: false };
    },
    stats() {
      return structuredClone(state.stats);
    },
    messages(forChannel) {
      return state.messages(forChannel).map((m) => messageView(state, m));
    },
    ageMessage(forChannel, messageId, byMs) {
      const message = state.messages(forChannel).find((m) => m.id === messageId);
      if (!message) throw new Error(`unknown message ${messageId} in ${forChannel}`);
      message.timestamp = new Date(Date.parse(message.timestamp) - byMs).toISOString();
    },
    archiveThread(threadId) {
      const meta = state.channels.get(threadId)?.thread_metadata;
      if (!meta) throw new Error(`${threadId} is not a thread`);
      meta.archived = true;
      state.version++;
    },
    snapshot(limitPerChannel = 5000) {
      const messages: Record<string, MessageView[]> = {};
      for (const id of state.channels.keys()) {
        messages[id] = state
          .messages(id)
          .slice(-limitPerChannel)
          .map((m) => messageView(state, m));
      }
      return {
        version: state.version,
        bot: state.botUser,
        guildId: state.settings.guildId,
        channels: [...state.channels.values()].map((c) => channelView(c)),
        messages,
        stats: structuredClone(state.stats),
        faults: faultsView(state),
        config: { tokenCount: state.tokens.size, rateLimits: structuredClone(state.rateLimits), interactionsUrl: state.interactionsUrl },
        stateFile: saved?.path ?? null,
        roles: [...state.roles.values()].map((r) => ({ id: r.id, name: r.name, color: r.color })),
      };
    },
    click(input) {
      return clickButton(state, input, { privateKey, timeoutMs });
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const apiRouter = createApiRouter({ state, limiter, onError: options.onError });
  app.use(['/api/v10', '/api/v9', '/api'], apiRouter);
  app.use('/_sim', createControlRouter(sim));
  app.use(createViewerRouter());

  const server: Server = createServer(app);
  // Keep-alive sockets would hold close() open; track them to end them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5000;
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  baseUrl = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    ...sim,
    url: baseUrl,
    apiUrl: `${baseUrl}/api`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        saved?.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function definedOnly<T extends Record<string, unknown>>(obj: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
