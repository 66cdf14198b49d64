/**
 * "Send a test message" for one endpoint: the purple test post of an event
 * type, executed through the endpoint's webhook, so an admin sees it arrive.
 */
import type { REST } from '@discordjs/rest';
import { type DbLike, NotFoundError, prismaOf } from '@flipfix/db';
import { classifyDiscordError, executeWebhook, formatTestMessage, parseWebhookUrl, scrubSecrets } from '@flipfix/discord';
import type { EventType } from '@flipfix/events';
import type { Logger } from '@flipfix/logger';
import { disableWebhookEndpoint, loadEndpointSecret } from './endpoints';

/** The outcome of {@link sendWebhookTestMessage}; never holds the URL. */
export type WebhookTestResult =
  | { ok: true; endpointId: string; webhookId: string; channelId: string; messageId: string }
  | { ok: false; endpointId: string; error: string; errorClass: string; endpointDisabled: boolean };

/** Dependencies of {@link sendWebhookTestMessage}. */
export interface WebhookTestDeps {
  db: DbLike;
  /** An @discordjs/rest client; the request goes out with `auth: false`. */
  rest: REST;
  /** Base for the links in the test post. */
  baseUrl: string;
  log?: Logger | undefined;
}

/**
 * Posts a test message through an endpoint's webhook (even a disabled one,
 * so an admin can check a fixed webhook before enabling it). A webhook Discord
 * reports as deleted or with an invalid token is disabled with the reason.
 * Unknown ids throw {@link NotFoundError}.
 */
export async function sendWebhookTestMessage(
  deps: WebhookTestDeps,
  endpointId: string,
  eventType: EventType = 'problem_report_created',
): Promise<WebhookTestResult> {
  const endpoint = await loadEndpointSecret(deps.db, endpointId);
  if (!endpoint) throw new NotFoundError('Webhook endpoint', /^[0-9a-f-]{36}$/i.test(endpointId) ? endpointId : '(invalid id)');
  const ref = parseWebhookUrl(endpoint.url);
  if (!ref) return { ok: false, endpointId, error: 'the stored URL is not a webhook URL', errorClass: 'permanent:webhook', endpointDisabled: false };
  const body = formatTestMessage(eventType, deps.baseUrl, { mode: 'webhook' });
  try {
    const message = await executeWebhook(deps.rest, endpoint.url, body);
    deps.log?.info({ endpointId, webhookId: ref.id, messageId: message.id }, 'webhook test message sent');
    return { ok: true, endpointId, webhookId: ref.id, channelId: message.channel_id, messageId: message.id };
  } catch (err) {
    const c = classifyDiscordError(err);
    const error = scrubSecrets(c.reason).split(ref.token).join('***');
    const disabled = c.kind === 'permanent' && c.target === 'webhook' ? await disableWebhookEndpoint(prismaOf(deps.db), endpointId, error) : false;
    deps.log?.warn({ endpointId, webhookId: ref.id, reason: error, endpointDisabled: disabled }, 'webhook test message failed');
    const errorClass = c.kind === 'permanent' ? `permanent:${c.target}` : c.kind;
    return { ok: false, endpointId, error, errorClass, endpointDisabled: disabled };
  }
}
