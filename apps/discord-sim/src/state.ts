/**
 * The simulator's in-memory world: channels, threads, messages, webhooks,
 * interactions, configuration, injected faults and counters.
 */
import { ApiErrors } from './errors';
import type { RateLimitRule } from './ratelimit';
import { snowflake } from './snowflake';
import type { AllowedMentions } from './validate';

/** A Discord user object (the subset the simulator fills in). */
export interface SimUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
}

/** What the bot may do in a channel. */
export interface SimPermissions {
  /** View Channel: without it every route answers 403 Missing Access (50001). */
  view: boolean;
  /** Send Messages: without it posting answers 403 Missing Permissions (50013). */
  send: boolean;
}

/** Discord's thread_metadata. */
export interface ThreadMetadata {
  archived: boolean;
  auto_archive_duration: number;
  archive_timestamp: string;
  locked: boolean;
  create_timestamp: string;
}

/** A guild text channel (type 0) or a public thread (type 11). */
export interface SimChannel {
  id: string;
  type: number;
  name: string;
  guild_id: string;
  parent_id: string | null;
  position: number;
  permissions: SimPermissions;
  last_message_id: string | null;
  /** Exact number of messages ever sent here (the display buffer may hold fewer). */
  message_count: number;
  thread_metadata?: ThreadMetadata;
  owner_id?: string;
}

/** A reaction on a message. */
export interface SimReaction {
  emoji: { id: string | null; name: string };
  count: number;
  me: boolean;
}

/** A reply to an interaction that only the clicking user sees (flag 64), kept for display. */
export interface EphemeralReply {
  interaction_id: string;
  user: SimUser;
  content: string;
  embeds: unknown[];
  components: unknown[];
  timestamp: string;
}

/** A stored message: Discord's message object plus the simulator's own bookkeeping under `sim`. */
export interface SimMessage {
  id: string;
  type: number;
  channel_id: string;
  author: SimUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: SimUser[];
  mention_roles: string[];
  attachments: unknown[];
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  reactions: SimReaction[];
  pinned: boolean;
  flags: number;
  nonce?: string | number;
  webhook_id?: string;
  application_id?: string;
  position?: number;
  message_reference?: Record<string, unknown>;
  interaction_metadata?: Record<string, unknown>;
  /** Id of the thread started from this message. */
  thread_id?: string;
  /** Not part of Discord's object: what the sender asked for, and replies only the clicker saw. */
  sim: {
    allowed_mentions?: AllowedMentions;
    ephemeral: EphemeralReply[];
    /** True for a deferred interaction response still "thinking". */
    deferred?: boolean;
    /** When it was edited while older than an hour (Discord limits those edits: 30046). */
    oldEdits?: number[];
  };
}

/** A channel webhook. */
export interface SimWebhook {
  id: string;
  type: 1;
  token: string;
  channel_id: string;
  guild_id: string;
  name: string;
  avatar: string | null;
  application_id: null;
}

/** An interaction sent to the app, kept so that its follow-up webhook routes work. */
export interface SimInteraction {
  id: string;
  token: string;
  application_id: string;
  channel_id: string;
  /** The message whose component was clicked. */
  message_id: string;
  user: SimUser;
  /** The response message (type 4/5), edited by PATCH .../messages/@original. */
  original_message_id?: string;
  /** Type 6/7 responses: @original is the clicked message. */
  original_is_source?: boolean;
  ephemeral?: boolean;
  created_at: number;
}

/** Rate-limit settings; `null` turns a limit off (benchmarks). */
export interface RateLimitConfig {
  /** Message creation per channel (and webhook execution per webhook); Discord: about 5 per 5 s. */
  perChannel: RateLimitRule | null;
  /** Every bot request, per token; Discord: 50 per second. */
  global: RateLimitRule | null;
  /** Every other route, per route and major parameter. */
  perRoute: RateLimitRule | null;
}

/** Faults answered instead of normal responses; see `POST /_sim/faults`. */
export interface FailRule {
  /** How many more matching requests fail. */
  remaining: number;
  status: 500 | 502 | 503;
  method?: string;
  /** Substring of the request path after the API base, e.g. `/messages`. */
  path?: string;
  channelId?: string;
}

/** A rule that destroys the socket of the next matching requests without an answer. */
export interface DropRule {
  remaining: number;
  method?: string;
  path?: string;
  channelId?: string;
}

/** Faults currently in force. */
export interface Faults {
  latencyMs: number;
  fail: FailRule[];
  drop: DropRule[];
  outage: { until: number; status: 500 | 503 } | null;
  tokenRevoked: boolean;
}

/** Counters, exact even when the message display buffer drops old messages. */
export interface SimStats {
  requests: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  rateLimited: number;
  globalRateLimited: number;
  /** 401, 403 and 429 answers: what Discord's invalid-request (Cloudflare ban) counter counts. */
  invalidRequests: number;
  messagesCreated: number;
  messagesEdited: number;
  messagesDeleted: number;
  webhookExecutions: number;
  reactionsAdded: number;
  threadsCreated: number;
  interactionsSent: number;
  droppedConnections: number;
  faultsAnswered: number;
}

/** Per-channel message display buffer. */
interface MessageLog {
  list: SimMessage[];
  byId: Map<string, SimMessage>;
}

/** The part of the world that is saved to a file between runs. */
export interface SavedWorld {
  channels: SimChannel[];
  messages: Record<string, SimMessage[]>;
  webhooks: SimWebhook[];
}

/** The state's construction settings. */
export interface StateSettings {
  guildId: string;
  defaultChannelId: string;
  defaultChannelName: string;
  tokens: string[];
  botUser: SimUser;
  rateLimits: RateLimitConfig;
  interactionsUrl: string | null;
  maxMessagesPerChannel: number;
  /** Edits allowed per hour to a message older than an hour, before 30046. */
  oldMessageEditsPerHour: number;
  /** 401/403/429 answers in 10 minutes after which every request is refused for a while (Discord: 10,000). */
  invalidRequestLimit: number;
}

/** How long the simulated edge refuses a bot that passed the invalid-request limit. */
export const INVALID_REQUEST_BAN_MS = 10 * 60_000;

/** A guild role (the subset the console reads). */
export interface SimRole {
  id: string;
  name: string;
  color: number;
  position: number;
  mentionable: boolean;
  managed: boolean;
}

/** The role the simulated guild has besides @everyone, e.g. to mention on unplayable reports. */
export const SIM_ROLE = { id: '1100000000000000200', name: 'Maintainers' } as const;

/** The custom emoji the simulated guild has, usable in reactions as `flipfix:1100000000000000100`. */
export const SIM_CUSTOM_EMOJI = { id: '1100000000000000100', name: 'flipfix' } as const;

const NONCE_TTL_MS = 5 * 60_000;

function emptyStats(): SimStats {
  return {
    requests: 0,
    byRoute: {},
    byStatus: {},
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    rateLimited: 0,
    globalRateLimited: 0,
    invalidRequests: 0,
    messagesCreated: 0,
    messagesEdited: 0,
    messagesDeleted: 0,
    webhookExecutions: 0,
    reactionsAdded: 0,
    threadsCreated: 0,
    interactionsSent: 0,
    droppedConnections: 0,
    faultsAnswered: 0,
  };
}

function noFaults(): Faults {
  return { latencyMs: 0, fail: [], drop: [], outage: null, tokenRevoked: false };
}

/** The simulator's whole mutable world. Routes and the control API both go through it. */
export class SimState {
  channels = new Map<string, SimChannel>();
  webhooks = new Map<string, SimWebhook>();
  interactions = new Map<string, SimInteraction>();
  tokens: Set<string>;
  /** The guild's custom emojis (id to name) that reactions may use as `name:id`. */
  customEmojis = new Map<string, string>();
  /** The guild's roles; @everyone's id is the guild's. */
  roles = new Map<string, SimRole>();
  rateLimits: RateLimitConfig;
  interactionsUrl: string | null;
  faults: Faults = noFaults();
  stats: SimStats = emptyStats();
  /** Bumped on every change the viewer shows, so it can skip unchanged polls. */
  version = 0;
  readonly botUser: SimUser;
  /** Until when every request is refused (the invalid-request ban); 0 when not banned. */
  bannedUntil = 0;
  /** Invalid answers per minute (minute number → count), for the ban. */
  private invalidByMinute = new Map<number, number>();
  private logs = new Map<string, MessageLog>();
  private nonces = new Map<string, { message: SimMessage; at: number }>();

  constructor(readonly settings: StateSettings) {
    this.botUser = settings.botUser;
    this.tokens = new Set(settings.tokens);
    this.rateLimits = structuredClone(settings.rateLimits);
    this.interactionsUrl = settings.interactionsUrl;
    this.seed();
  }

  private seed(): void {
    this.customEmojis.set(SIM_CUSTOM_EMOJI.id, SIM_CUSTOM_EMOJI.name);
    const role = (id: string, name: string, position: number, color: number): SimRole => ({ id, name, color, position, mentionable: true, managed: false });
    this.roles.set(this.settings.guildId, role(this.settings.guildId, '@everyone', 0, 0));
    this.roles.set(SIM_ROLE.id, role(SIM_ROLE.id, SIM_ROLE.name, 1, 0x2ecc71));
    this.upsertChannel({ id: this.settings.defaultChannelId, name: this.settings.defaultChannelName });
  }

  /** Back to the start: only the default channel, no messages, webhooks, faults or counts; default config. */
  reset(): void {
    this.channels.clear();
    this.customEmojis.clear();
    this.roles.clear();
    this.webhooks.clear();
    this.interactions.clear();
    this.logs.clear();
    this.nonces.clear();
    this.tokens = new Set(this.settings.tokens);
    this.rateLimits = structuredClone(this.settings.rateLimits);
    this.interactionsUrl = this.settings.interactionsUrl;
    this.faults = noFaults();
    this.stats = emptyStats();
    this.bannedUntil = 0;
    this.invalidByMinute.clear();
    this.seed();
    this.version++;
  }

  /** Creates a text channel or updates an existing channel's name and permissions. */
  upsertChannel(input: {
    id?: string | undefined;
    name?: string | undefined;
    type?: number | undefined;
    permissions?: { view?: boolean | undefined; send?: boolean | undefined } | undefined;
  }): SimChannel {
    const id = input.id ?? snowflake();
    const existing = this.channels.get(id);
    const view = input.permissions?.view;
    const send = input.permissions?.send;
    if (existing) {
      if (input.name !== undefined) existing.name = input.name;
      if (input.type !== undefined) existing.type = input.type;
      if (view !== undefined) existing.permissions.view = view;
      if (send !== undefined) existing.permissions.send = send;
      this.version++;
      return existing;
    }
    const channel: SimChannel = {
      id,
      type: input.type ?? 0,
      name: input.name ?? `channel-${this.channels.size + 1}`,
      guild_id: this.settings.guildId,
      parent_id: null,
      position: this.channels.size,
      permissions: { view: view ?? true, send: send ?? true },
      last_message_id: null,
      message_count: 0,
    };
    this.channels.set(id, channel);
    this.version++;
    return channel;
  }

  /** A thread's permissions are its parent's unless set on the thread itself. */
  permissionsOf(channel: SimChannel): SimPermissions {
    if (channel.parent_id !== null) {
      const parent = this.channels.get(channel.parent_id);
      if (parent) return { view: parent.permissions.view && channel.permissions.view, send: parent.permissions.send && channel.permissions.send };
    }
    return channel.permissions;
  }

  private log(channelId: string): MessageLog {
    let log = this.logs.get(channelId);
    if (!log) {
      log = { list: [], byId: new Map() };
      this.logs.set(channelId, log);
    }
    return log;
  }

  /** Messages held for a channel, oldest first (at most `maxMessagesPerChannel`). */
  messages(channelId: string): SimMessage[] {
    return this.logs.get(channelId)?.list ?? [];
  }

  message(channelId: string, messageId: string): SimMessage | undefined {
    return this.logs.get(channelId)?.byId.get(messageId);
  }

  /** Stores a new message, counting it exactly and dropping the oldest one from display past the bound. */
  addMessage(message: SimMessage): void {
    const log = this.log(message.channel_id);
    log.list.push(message);
    log.byId.set(message.id, message);
    if (log.list.length > this.settings.maxMessagesPerChannel) {
      const dropped = log.list.shift();
      if (dropped) log.byId.delete(dropped.id);
    }
    const channel = this.channels.get(message.channel_id);
    if (channel) {
      channel.message_count++;
      channel.last_message_id = message.id;
      if (channel.type === 11) message.position = channel.message_count - 1;
    }
    this.stats.messagesCreated++;
    this.version++;
  }

  removeMessage(channelId: string, messageId: string): boolean {
    const log = this.logs.get(channelId);
    const message = log?.byId.get(messageId);
    if (!log || !message) return false;
    log.byId.delete(messageId);
    const i = log.list.indexOf(message);
    if (i >= 0) log.list.splice(i, 1);
    this.stats.messagesDeleted++;
    this.version++;
    return true;
  }

  /** The earlier message for the same author, channel and nonce within Discord's five minutes, if any. */
  findNonce(authorId: string, channelId: string, nonce: string | number, now: number): SimMessage | undefined {
    const hit = this.nonces.get(`${authorId}:${channelId}:${nonce}`);
    return hit !== undefined && now - hit.at < NONCE_TTL_MS ? hit.message : undefined;
  }

  rememberNonce(authorId: string, channelId: string, nonce: string | number, message: SimMessage, now: number): void {
    if (this.nonces.size > 50_000) {
      for (const [key, v] of this.nonces) if (now - v.at >= NONCE_TTL_MS) this.nonces.delete(key);
    }
    this.nonces.set(`${authorId}:${channelId}:${nonce}`, { message, at: now });
  }

  /** Creates a webhook for a channel. */
  createWebhook(channelId: string, name = 'Flipfix'): SimWebhook {
    const webhook: SimWebhook = {
      id: snowflake(),
      type: 1,
      token: `simhook-${snowflake()}-${Math.random().toString(36).slice(2, 12)}`,
      channel_id: channelId,
      guild_id: this.settings.guildId,
      name,
      avatar: null,
      application_id: null,
    };
    this.webhooks.set(webhook.id, webhook);
    this.version++;
    return webhook;
  }

  /** What outlives a restart (see persistence.ts): channels, messages and webhooks; not faults, counters or nonces. */
  dump(): SavedWorld {
    const messages: Record<string, SimMessage[]> = {};
    for (const [channelId, log] of this.logs) messages[channelId] = log.list;
    return { channels: [...this.channels.values()], messages, webhooks: [...this.webhooks.values()] };
  }

  /** Puts a saved world back (on top of the seeded default channel). */
  restore(saved: SavedWorld): void {
    for (const channel of saved.channels) this.channels.set(channel.id, channel);
    for (const webhook of saved.webhooks) this.webhooks.set(webhook.id, webhook);
    for (const [channelId, list] of Object.entries(saved.messages)) {
      const kept = list.slice(-this.settings.maxMessagesPerChannel);
      this.logs.set(channelId, { list: kept, byId: new Map(kept.map((m) => [m.id, m])) });
    }
    this.version++;
  }

  /** Counts one answered API request. */
  countResponse(routeKey: string, status: number): void {
    const s = this.stats;
    s.requests++;
    s.byRoute[routeKey] = (s.byRoute[routeKey] ?? 0) + 1;
    s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
    if (status < 300) s.status2xx++;
    else if (status >= 400 && status < 500) s.status4xx++;
    else if (status >= 500) s.status5xx++;
    if (status === 429) s.rateLimited++;
    if (status === 401 || status === 403 || status === 429) {
      s.invalidRequests++;
      this.countInvalid(Date.now());
    }
  }

  /** Counts an invalid answer; past the limit in 10 minutes, bans the bot as Discord's edge does. */
  private countInvalid(now: number): void {
    const minute = Math.floor(now / 60_000);
    this.invalidByMinute.set(minute, (this.invalidByMinute.get(minute) ?? 0) + 1);
    let total = 0;
    for (const [m, n] of this.invalidByMinute) {
      if (m <= minute - 10) this.invalidByMinute.delete(m);
      else total += n;
    }
    if (total >= this.settings.invalidRequestLimit && this.bannedUntil <= now) this.bannedUntil = now + INVALID_REQUEST_BAN_MS;
  }

  /**
   * Allows one more edit of `message` at `now`, or throws 30046: a message
   * older than an hour takes only a few edits per hour.
   */
  allowEdit(message: SimMessage, now: number): void {
    if (now - Date.parse(message.timestamp) <= 3600_000) return;
    const recent = (message.sim.oldEdits ?? []).filter((at) => now - at < 3600_000);
    if (recent.length >= this.settings.oldMessageEditsPerHour) throw ApiErrors.tooManyOldMessageEdits();
    message.sim.oldEdits = [...recent, now];
  }
}
