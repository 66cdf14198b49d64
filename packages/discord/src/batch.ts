/**
 * Packs several formatted posts into as few messages as Discord allows, so a
 * backlog drains in fewer requests (each message costs one slot of the
 * channel's ~5 per 5 s rate limit).
 */
import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { DISCORD_LIMITS, messageEmbedsLength } from './limits';

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
 * Packed messages carry no components: a message has at most 5 button rows
 * and a button cannot say which of ten embeds it belongs to, so action
 * buttons stay on single posts. Posts that share an embed `url` are never
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
