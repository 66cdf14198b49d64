/**
 * The guild's text channels by name, read through the bot, so the console
 * can show `#machine-notifications` where the ledger and settings hold a
 * snowflake, and offer a list to pick from instead of an id to paste. The
 * guild is the default channel's (`GET /channels/{id}`), its channels come
 * from `GET /guilds/{guild.id}/channels`; both answers are cached briefly.
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

/** Channel types a message can be posted in: text (0) and announcement (5). */
const POSTABLE_TYPES = new Set([0, 5]);

export interface ChannelDirectoryOptions {
  rest?: REST | undefined;
  /** Sets the token again before asking (@discordjs/rest forgets it after a 401). */
  token?: string | undefined;
  /** A channel of the guild, to find the guild by. */
  anchorChannelId: string;
  /** How long one answer is used. Default 30 s. */
  cacheMs?: number;
}

/** Looks up and caches the guild's postable channels. */
export class ChannelDirectory {
  readonly #options: ChannelDirectoryOptions;
  #cached: { at: number; channels: GuildChannel[] | null } | null = null;
  #pending: Promise<GuildChannel[] | null> | null = null;

  constructor(options: ChannelDirectoryOptions) {
    this.#options = options;
  }

  /** The guild's postable channels in Discord's order, or null when they cannot be read now. */
  async list(): Promise<GuildChannel[] | null> {
    const cacheMs = this.#options.cacheMs ?? 30_000;
    if (this.#cached !== null && Date.now() - this.#cached.at < cacheMs) return this.#cached.channels;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #fetch(): Promise<GuildChannel[] | null> {
    const { rest, token, anchorChannelId } = this.#options;
    if (rest === undefined) return null;
    let channels: GuildChannel[] | null = null;
    try {
      if (token) rest.setToken(token);
      const anchor = (await rest.get(`/channels/${anchorChannelId}`)) as { guild_id?: string };
      if (typeof anchor.guild_id === 'string') {
        const all = (await rest.get(`/guilds/${anchor.guild_id}/channels`)) as { id: string; name: string; type: number; position?: number }[];
        channels = all
          .filter((c) => POSTABLE_TYPES.has(c.type))
          .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
          .map((c) => ({ id: c.id, name: c.name }));
      }
    } catch {
      // Unreachable or refused: the pages show ids instead (health says why).
      channels = null;
    }
    this.#cached = { at: Date.now(), channels };
    return channels;
  }

  /** Forgets the cached list (after a channel is created, or in tests). */
  invalidate(): void {
    this.#cached = null;
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
 * A channel picker: a list of the guild's channels when they are known,
 * otherwise a text field for the id. The value shown is what the admin
 * chose or typed, even when it was refused.
 */
export function channelPicker(o: {
  id: string;
  name: string;
  value: string;
  channels: readonly GuildChannel[] | null;
  /** The first entry: what an empty value means, e.g. "Default channel (#general)". */
  emptyLabel: string;
  /** Extra attributes (aria-*). */
  attrs?: HtmlValue;
}): Html {
  if (o.channels === null) {
    return html`<input id="${o.id}" type="text" name="${o.name}" value="${o.value}" placeholder="${o.emptyLabel}" inputmode="numeric" autocomplete="off"${o.attrs ?? ''}>`;
  }
  const known = o.value === '' || o.channels.some((c) => c.id === o.value);
  const selectedTitle = o.channels.find((c) => c.id === o.value)?.id ?? o.value;
  return html`<select id="${o.id}" name="${o.name}"${selectedTitle === '' ? '' : html` title="channel id ${selectedTitle}"`}${o.attrs ?? ''}>
<option value="">${o.emptyLabel}</option>${o.channels.map(
    (c) => html`<option value="${c.id}" title="channel id ${c.id}"${c.id === o.value ? html` selected` : ''}>#${c.name}</option>`,
  )}${known ? '' : html`<option value="${o.value}" selected>unknown channel ${o.value}</option>`}</select>`;
}
