/**
 * Reactions per event type (setting `reactions`): the bot reacts to its own
 * new post with each configured emoji, in order. `addReaction` URL-encodes
 * the emoji (Unicode, or `name:id` for a custom one).
 */
import type { REST } from '@discordjs/rest';
import type { NotifySettings } from '@flipfix/db';
import { addReaction } from '@flipfix/discord';
import type { EventType } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { withRateLimitWait } from './discord-calls';

/**
 * Adds the configured reactions to one message. One bad emoji (10014
 * unknown emoji) does not stop the others; failures are logged, never
 * thrown, since the post itself is already delivered.
 */
export async function addConfiguredReactions(
  deps: { rest: REST; settings: () => NotifySettings; log: Logger },
  p: { eventType: EventType; channelId: string; messageId: string },
): Promise<number> {
  const emojis = deps.settings().reactions[p.eventType] ?? [];
  let added = 0;
  for (const emoji of emojis) {
    try {
      await withRateLimitWait(() => addReaction(deps.rest, p.channelId, p.messageId, emoji));
      added++;
    } catch (err) {
      deps.log.warn({ err, emoji, messageId: p.messageId }, 'could not add reaction');
    }
  }
  return added;
}
