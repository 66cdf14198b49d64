/**
 * Input rules for webhook endpoints. Messages never echo the URL: it holds
 * the webhook's token.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '@flipfix/events';
import { parseWebhookUrl } from '@flipfix/discord';

/** Longest endpoint name, in characters (code points); the migration's CHECK agrees. */
export const NAME_MAX = 80;

/** Hosts that serve Discord's webhook execute route. */
const DISCORD_HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com', 'ptb.discordapp.com', 'canary.discordapp.com']);

/** What {@link checkWebhookUrl} accepts. */
export interface WebhookUrlRules {
  /**
   * Accept any http(s) host whose path ends in `/webhooks/<id>/<token>` (the
   * simulator's URLs). Default true. Deliveries always go to the configured
   * API base, never to the URL's host, so this widens only what an admin may
   * type, not where traffic goes.
   */
  allowDevelopmentUrls?: boolean;
}

/**
 * Why `url` is not an acceptable webhook URL, or null when it is:
 * `https://discord.com/api[/v10]/webhooks/<id>/<token>` (also discordapp.com,
 * ptb., canary.), or, for development, any http(s) URL with that path ending.
 */
export function checkWebhookUrl(url: string, rules: WebhookUrlRules = {}): string | null {
  const ref = parseWebhookUrl(url);
  if (ref === null) {
    return 'must be a Discord webhook URL: https://discord.com/api/webhooks/<id>/<token>, where the id is 17 to 20 digits';
  }
  if (!/^\d{17,20}$/.test(ref.id)) {
    const digits = `${ref.id.length} digit${ref.id.length === 1 ? '' : 's'}`;
    return `must be a Discord webhook URL: https://discord.com/api/webhooks/<id>/<token>, where the id is 17 to 20 digits (this one has ${digits})`;
  }
  const parsed = new URL(url.trim());
  const discordStyle =
    parsed.protocol === 'https:' &&
    DISCORD_HOSTS.has(parsed.hostname) &&
    parsed.port === '' &&
    /^\/api(?:\/v\d{1,2})?\/webhooks\/\d+\/[\w-]+\/?$/.test(parsed.pathname) &&
    parsed.search === '' &&
    parsed.hash === '' &&
    parsed.username === '' &&
    parsed.password === '';
  if (discordStyle) return null;
  if (rules.allowDevelopmentUrls === false) return 'must be a https://discord.com/api/webhooks/<id>/<token> URL';
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain credentials';
  return null;
}

/** Unicode-aware length, as the database's `char_length` counts. */
function codePoints(text: string): number {
  return [...text].length;
}

const name = z
  .string({ error: 'must be a string' })
  .trim()
  .refine((v) => codePoints(v) >= 1, { message: 'must not be empty' })
  .refine((v) => codePoints(v) <= NAME_MAX, { message: `must be at most ${NAME_MAX} characters` });

const events = z
  .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }), { error: 'must be a list of event types' })
  .max(EVENT_TYPES.length * 4, { message: 'too many entries' })
  .transform((list) => [...new Set(list)]);

function urlField(rules: WebhookUrlRules) {
  return z
    .string({ error: 'must be a string' })
    .trim()
    .max(2000, { message: 'is too long' })
    .superRefine((value, ctx) => {
      const problem = checkWebhookUrl(value, rules);
      // `input` is dropped so the issue (and any log of it) never carries the token.
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
    });
}

/** Body of `POST /webhook-endpoints`. */
export function createEndpointSchema(rules: WebhookUrlRules = {}) {
  return z.strictObject({
    name,
    url: urlField(rules),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    events,
  });
}

/** Body of `PATCH /webhook-endpoints/:id`: every field optional. */
export function updateEndpointSchema(rules: WebhookUrlRules = {}) {
  return createEndpointSchema(rules).partial();
}

export type CreateEndpointInput = z.infer<ReturnType<typeof createEndpointSchema>>;
export type UpdateEndpointInput = z.infer<ReturnType<typeof updateEndpointSchema>>;

