/**
 * The guild's text channels and roles by name, read through the bot, so the
 * console can show `#machine-notifications` where the ledger and settings
 * hold a snowflake, and offer a list to pick from instead of an id to paste.
 * The guild is the default channel's (`GET /channels/{id}`), its channels and
 * roles come from `GET /guilds/{guild.id}/channels` and `…/roles`; the
 * answers are cached briefly.
 * When Discord cannot be asked (no client, no access, an outage) the console
 * falls back to ids: nothing here ever fails a page.
 */
import type { REST } from '@discordjs/rest';
import { type Html, html, type HtmlValue } from '../views/html';

/** A channel a bot post can go to. */
export interface GuildChannel {
  id: string;
  name: string;
}

/** A role a post can mention. */
export interface GuildRole {
  id: string;
  name: string;
}

/** What is known of the guild; a list is null when it cannot be read now. */
interface GuildLists {
  channels: GuildChannel[] | null;
  roles: GuildRole[] | null;
}

/** Channel types a message can be posted in: text (0) and announcement (5). */
const POSTABLE_TYPES = new Set([0, 5]);

export interface GuildDirectoryOptions {
  rest?: REST | undefined;
  /** Sets the token again before asking (@discordjs/rest forgets it after a 401). */
  token?: string | undefined;
  /** A channel of the guild, to find the guild by. */
  anchorChannelId: string;
  /** How long one answer is used. Default 30 s. */
  cacheMs?: number;
}

/** Looks up and caches the guild's postable channels and its roles. */
export class GuildDirectory {
  readonly #options: GuildDirectoryOptions;
  #cached: { at: number; lists: GuildLists } | null = null;
  #pending: Promise<GuildLists> | null = null;

  constructor(options: GuildDirectoryOptions) {
    this.#options = options;
  }

  /** The guild's postable channels in Discord's order, or null when they cannot be read now. */
  async channels(): Promise<GuildChannel[] | null> {
    return (await this.#lists()).channels;
  }

  /** The roles a post can mention (not @everyone, not a bot's own), highest first, or null when they cannot be read now. */
  async roles(): Promise<GuildRole[] | null> {
    return (await this.#lists()).roles;
  }

  #lists(): Promise<GuildLists> {
    const cacheMs = this.#options.cacheMs ?? 30_000;
    if (this.#cached !== null && Date.now() - this.#cached.at < cacheMs) return Promise.resolve(this.#cached.lists);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #fetch(): Promise<GuildLists> {
    const { rest, token, anchorChannelId } = this.#options;
    const lists: GuildLists = { channels: null, roles: null };
    if (rest === undefined) return lists;
    // Each list on its own: unreachable or refused, the pages show ids instead (health says why).
    const quietly = async <T>(read: () => Promise<T>): Promise<T | null> => read().catch(() => null);
    if (token) rest.setToken(token);
    const anchor = await quietly(async () => (await rest.get(`/channels/${anchorChannelId}`)) as { guild_id?: string });
    const guildId = anchor?.guild_id;
    if (typeof guildId === 'string') {
      lists.channels = await quietly(async () =>
        ((await rest.get(`/guilds/${guildId}/channels`)) as { id: string; name: string; type: number; position?: number }[])
          .filter((c) => POSTABLE_TYPES.has(c.type))
          .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
          .map((c) => ({ id: c.id, name: c.name })),
      );
      lists.roles = await quietly(async () =>
        ((await rest.get(`/guilds/${guildId}/roles`)) as { id: string; name: string; position: number; managed?: boolean }[])
          .filter((r) => r.id !== guildId && r.managed !== true)
          .sort((a, b) => b.position - a.position)
          .map((r) => ({ id: r.id, name: r.name })),
      );
    }
    this.#cached = { at: Date.now(), lists };
    return lists;
  }
}

/** How pages name channels: `#name` with the id on hover, or the bare id when the name is unknown. */
export type ChannelNamer = (id: string | null | undefined) => Html;

/** A {@link ChannelNamer} over a channel list (null: names unknown). */
export function channelNamer(channels: readonly GuildChannel[] | null): ChannelNamer {
  const byId = new Map((channels ?? []).map((c) => [c.id, c.name]));
  return (id) => {
    if (id === null || id === undefined || id === '') return html`<span class="muted">—</span>`;
    const name = byId.get(id);
    if (name !== undefined) return html`<span class="channel id" title="channel id ${id}">#${name}</span>`;
    return channels === null
      ? html`<code class="id" title="channel id">${id}</code>`
      : html`<span class="channel id" title="channel id ${id}">unknown channel <code class="id">${id}</code></span>`;
  };
}

/**
 * A picker for a snowflake setting: a list of the guild's channels or roles
 * when they are known, otherwise a text field for the id. The value shown is
 * what the admin chose or typed, even when it was refused.
 */
export function snowflakePicker(o: {
  id: string;
  name: string;
  value: string;
  /** The choices (`#name` / `@name` labels), or null when the guild cannot be read. */
  choices: readonly { id: string; label: string }[] | null;
  /** What the value is ("channel", "role"), for the hover text and an unknown id. */
  kind: string;
  /** The first entry: what an empty value means, e.g. "Default channel". */
  emptyLabel: string;
  /** Extra attributes (aria-*). */
  attrs?: HtmlValue;
}): Html {
  if (o.choices === null) {
    return html`<input id="${o.id}" type="text" name="${o.name}" value="${o.value}" placeholder="${o.emptyLabel}" inputmode="numeric" autocomplete="off"${o.attrs ?? ''}>`;
  }
  const known = o.value === '' || o.choices.some((c) => c.id === o.value);
  return html`<select id="${o.id}" name="${o.name}"${o.value === '' ? '' : html` title="${o.kind} id ${o.value}"`}${o.attrs ?? ''}>
<option value="">${o.emptyLabel}</option>${o.choices.map(
    (c) => html`<option value="${c.id}" title="${o.kind} id ${c.id}"${c.id === o.value ? html` selected` : ''}>${c.label}</option>`,
  )}${known ? '' : html`<option value="${o.value}" selected>unknown ${o.kind} ${o.value}</option>`}</select>`;
}

/** Channels as {@link snowflakePicker} choices. */
export function channelChoices(channels: readonly GuildChannel[] | null): { id: string; label: string }[] | null {
  return channels === null ? null : channels.map((c) => ({ id: c.id, label: `#${c.name}` }));
}

/** Roles as {@link snowflakePicker} choices. */
export function roleChoices(roles: readonly GuildRole[] | null): { id: string; label: string }[] | null {
  return roles === null ? null : roles.map((r) => ({ id: r.id, label: `@${r.name}` }));
}
