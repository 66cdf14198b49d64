/**
 * Flood batching, the pure part. When a channel has a backlog that its rate
 * limit cannot drain promptly, the post that gets the next slot leads a
 * batch: it claims the oldest pending posts of the channel (the ledger's
 * `claimBatch`, written before anything is sent, so a retry resends exactly
 * the same batch under the same nonce) and sends them as one message of up
 * to 10 embeds and 6000 characters, in event order.
 */
import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { DISCORD_LIMITS, embedLength, packEmbeds, truncate } from '@flipfix/discord';

/** How many pending posts a leader claims (each is at least one embed). */
export const BATCH_CLAIM_LIMIT = 10;

export interface PackedBatch {
  body: RESTPostAPIChannelMessageJSONBody;
  /** Member ids in the message, with the index of each one's first embed. */
  included: { id: string; embedIndex: number }[];
  /** Members that did not fit in the leader's message. */
  excluded: string[];
}

/**
 * Packs formatted posts (in event order) and keeps the message that holds
 * the leader; the others go back to pending.
 */
export function packForLeader(leaderId: string, posts: readonly { id: string; body: RESTPostAPIChannelMessageJSONBody }[]): PackedBatch {
  const packed = packEmbeds(posts.map((p) => p.body));
  const leaderIndex = posts.findIndex((p) => p.id === leaderId);
  const messageIndex = packed.positions[leaderIndex]?.messageIndex ?? 0;
  const message = packed.messages[messageIndex]!;
  const included = message.sources.map((i) => ({ id: posts[i]!.id, embedIndex: packed.positions[i]!.embedIndex }));
  const inMessage = new Set(message.sources);
  const excluded = posts.filter((_, i) => !inMessage.has(i)).map((p) => p.id);
  // A batch of one is sent as the post itself, with its buttons.
  const body = included.length === 1 ? posts[message.sources[0]!]!.body : message.body;
  return { body, included, excluded };
}

/**
 * The embeds of a packed message after one record changed, within Discord's
 * limits: every record keeps its embeds (Discord replaces all of them on
 * edit, so one left out would vanish from the message). When the changed
 * record grew past the 6000-character total, its description is shortened
 * (on a word boundary, with an ellipsis) by what is over; the others are
 * shortened only if that is not enough.
 */
export function fitPackedEdit(parts: readonly { embeds: readonly APIEmbed[]; changed: boolean }[]): APIEmbed[] {
  const embeds = parts.flatMap((p) => p.embeds.map((e) => ({ embed: { ...e }, changed: p.changed })));
  const total = () => embeds.reduce((n, e) => n + embedLength(e.embed, 'utf16'), 0);
  // The changed record's own embeds first, then the longest descriptions.
  const order = [...embeds].sort((a, b) => Number(b.changed) - Number(a.changed) || (b.embed.description?.length ?? 0) - (a.embed.description?.length ?? 0));
  for (const e of order) {
    const over = total() - DISCORD_LIMITS.embedTotal;
    if (over <= 0) break;
    const description = e.embed.description ?? '';
    if (description === '') continue;
    e.embed.description = truncate(description, Math.max(0, description.length - over));
  }
  return embeds.slice(0, DISCORD_LIMITS.embeds).map((e) => e.embed);
}
