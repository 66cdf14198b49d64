/**
 * Packs several formatted posts into as few messages as Discord allows, so a
 * backlog drains in fewer requests (each message costs one slot of the
 * channel's ~5 per 5 s rate limit).
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import { DISCORD_LIMITS, messageEmbedsLength } from './limits';
import { truncate } from './text';

/** Buttons per action row, and rows per message (Discord's limits). */
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;
const BUTTON_LABEL_MAX = 80;

function isLinkButton(component: unknown): component is APIButtonComponent & { url: string; label?: string } {
  const c = component as { type?: unknown; style?: unknown; url?: unknown };
  return c.type === ComponentType.Button && c.style === ButtonStyle.Link && typeof c.url === 'string';
}

/**
 * One link button per packed post that had one, labelled with the record it
 * opens (its title and footer, e.g. "⚠️ EBD · Problem report #12"), in rows of
 * five, at most 25: the components of a packed message (on posting, and on
 * every edit of it, which replaces them).
 */
export function packedLinkButtons(bodies: readonly RESTPostAPIChannelMessageJSONBody[]): APIActionRowComponent<APIButtonComponent>[] {
  const buttons: APIButtonComponent[] = [];
  for (const body of bodies) {
    const link = (body.components ?? []).flatMap((row): readonly unknown[] => ('components' in row ? row.components : [])).find(isLinkButton);
    if (link === undefined) continue;
    const main = body.embeds?.[0];
    const label = [main?.title, main?.footer?.text].filter((t) => t !== undefined && t !== '').join(' · ') || link.label || 'View in Flipfix';
    buttons.push({ type: ComponentType.Button, style: ButtonStyle.Link, label: truncate(label, BUTTON_LABEL_MAX), url: link.url });
  }
  const rows: APIActionRowComponent<APIButtonComponent>[] = [];
  for (let i = 0; i < buttons.length && rows.length < MAX_ROWS; i += BUTTONS_PER_ROW) {
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + BUTTONS_PER_ROW) });
  }
  return rows;
}

/** Options for {@link packEmbeds}. */
export interface PackOptions {
  /** Embeds per packed message. Default 10. */
  maxEmbeds?: number;
  /** Embed characters per packed message (UTF-16 units, see limits.ts). Default 6000. */
  maxChars?: number;
}

/** One packed message and the inputs it carries. */
export interface PackedMessage {
  body: RESTPostAPIChannelMessageJSONBody;
  /** Indexes into the input array, in order. */
  sources: number[];
}

/** Where an input post's first embed landed. */
export interface PackedPosition {
  messageIndex: number;
  embedIndex: number;
}

/** Result of {@link packEmbeds}. */
export interface PackResult {
  messages: PackedMessage[];
  /** `positions[i]` is where input `i` went. */
  positions: PackedPosition[];
}

function mergeBodies(bodies: RESTPostAPIChannelMessageJSONBody[]): RESTPostAPIChannelMessageJSONBody {
  const embeds: APIEmbed[] = bodies.flatMap((b) => b.embeds ?? []);
  const roles = [...new Set(bodies.flatMap((b) => b.allowed_mentions?.roles ?? []))];
  // Only role mentions are ever sent as content; keep each once.
  const contents = [...new Set(bodies.map((b) => b.content ?? '').filter((c) => c !== ''))];
  const body: RESTPostAPIChannelMessageJSONBody = { embeds };
  const rows = packedLinkButtons(bodies);
  if (rows.length > 0) body.components = rows;
  const content = contents.join(' ');
  if (content !== '' && content.length <= DISCORD_LIMITS.content) body.content = content;
  body.allowed_mentions = roles.length > 0 && body.content !== undefined ? { parse: [], roles } : { parse: [] };
  return body;
}

/**
 * Groups consecutive posts, in order, into as few messages as possible with
 * at most `maxEmbeds` embeds and `maxChars` embed characters each. A post's
 * embeds (main + gallery) always stay together; a post that alone exceeds a
 * limit gets a message of its own (the formatter never produces one).
 *
 * Packed messages carry one link button per post, labelled with its record
 * (a message of at most 10 posts needs at most 2 of Discord's 5 rows of 5);
 * action buttons (claim, close...) stay on single posts, where there is no
 * doubt which record they act on. Posts that share an embed `url` are never
 * packed next to each other, because Discord would merge their images into
 * one gallery. `allowed_mentions` stays `{ parse: [] }`, with the roles of
 * the packed posts' role mentions.
 */
export function packEmbeds(messages: readonly RESTPostAPIChannelMessageJSONBody[], options: PackOptions = {}): PackResult {
  const maxEmbeds = options.maxEmbeds ?? DISCORD_LIMITS.embeds;
  const maxChars = options.maxChars ?? DISCORD_LIMITS.embedTotal;
  const groups: number[][] = [];
  let current: number[] = [];
  let embeds = 0;
  let chars = 0;
  let lastUrl: string | undefined;

  messages.forEach((message, i) => {
    const e = message.embeds ?? [];
    const n = e.length;
    const c = messageEmbedsLength(e, 'utf16');
    const firstUrl = e[0]?.url;
    const sameGallery = firstUrl !== undefined && firstUrl === lastUrl;
    if (current.length > 0 && (embeds + n > maxEmbeds || chars + c > maxChars || sameGallery)) {
      groups.push(current);
      current = [];
      embeds = 0;
      chars = 0;
    }
    current.push(i);
    embeds += n;
    chars += c;
    lastUrl = e.at(-1)?.url;
  });
  if (current.length > 0) groups.push(current);

  const positions: PackedPosition[] = new Array(messages.length);
  const packed = groups.map((sources, messageIndex) => {
    let embedIndex = 0;
    for (const i of sources) {
      positions[i] = { messageIndex, embedIndex };
      embedIndex += messages[i]?.embeds?.length ?? 0;
    }
    return { body: mergeBodies(sources.map((i) => messages[i]!)), sources };
  });
  return { messages: packed, positions };
}
