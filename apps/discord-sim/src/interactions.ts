/**
 * Button clicks: builds Discord's MESSAGE_COMPONENT interaction, signs it with
 * Ed25519 like Discord, posts it to the app's interactions endpoint and applies
 * the app's answer (reply, ephemeral reply, deferral or message update).
 */
import { type KeyObject, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { editMessage, ephemeralReply, postMessage } from './api';
import { DiscordError } from './errors';
import { apiChannel, apiMessage } from './serialize';
import { snowflake } from './snowflake';
import type { SimInteraction, SimState, SimUser } from './state';
import { validateMessageBody } from './validate';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Builds an Ed25519 private key from its 32-byte seed (hex). */
export function privateKeyFromSeed(seedHex: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
}

/** The raw 32-byte public key (hex) of an Ed25519 private key, as DISCORD_PUBLIC_KEY holds it. */
export function publicKeyHex(key: KeyObject): string {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('hex');
}

/** Discord's signature: Ed25519 over timestamp + raw body, hex. */
export function signInteraction(key: KeyObject, timestamp: string, body: string): string {
  return sign(null, Buffer.from(timestamp + body), key).toString('hex');
}

/** A simulated user clicking a button. */
export interface ClickInput {
  channelId: string;
  messageId: string;
  customId: string;
  user?: { id: string; username: string } | undefined;
}

/** What happened to a click. */
export interface ClickResult {
  /** The app's HTTP status, or null when it could not be reached in time. */
  status: number | null;
  /** The app's parsed JSON answer (or its text). */
  response: unknown;
  /** How the answer was applied: `message`, `ephemeral`, `deferred`, `deferred_update`, `update`, or `failed`. */
  applied: 'message' | 'ephemeral' | 'deferred' | 'deferred_update' | 'update' | 'failed';
  /** Why the interaction failed, as the Discord client would say it. */
  error?: string;
  interaction: { id: string; token: string };
}

/** Thrown for a click on something that does not exist. */
export class ClickError extends Error {
  override name = 'ClickError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_CLICKER: SimUser = { id: '1100000000000000777', username: 'museum-volunteer', discriminator: '0', global_name: 'Museum Volunteer', avatar: null };

function findButton(components: Record<string, unknown>[], customId: string): Record<string, unknown> | undefined {
  for (const row of components) {
    const children = Array.isArray(row.components) ? (row.components as Record<string, unknown>[]) : [];
    for (const child of children) if (child.custom_id === customId) return child;
  }
  return undefined;
}

/** Sends one click to `state.interactionsUrl` and applies the answer. */
export async function clickButton(
  state: SimState,
  input: ClickInput,
  options: { privateKey: KeyObject; timeoutMs: number },
): Promise<ClickResult> {
  const url = state.interactionsUrl;
  if (url === null) throw new ClickError(409, 'no interactionsUrl configured (PATCH /_sim/config {"interactionsUrl": ...})');
  const channel = state.channels.get(input.channelId);
  if (!channel) throw new ClickError(404, 'unknown channel');
  const message = state.message(channel.id, input.messageId);
  if (!message) throw new ClickError(404, 'unknown message');
  const button = findButton(message.components, input.customId);
  if (!button) throw new ClickError(404, 'no component with that custom_id on the message');
  if (button.disabled === true) throw new ClickError(409, 'the button is disabled');

  const user: SimUser = input.user ? { ...DEFAULT_CLICKER, ...input.user, global_name: input.user.username } : DEFAULT_CLICKER;
  const now = Date.now();
  const interaction: SimInteraction = {
    id: snowflake(now),
    token: `siminteraction-${snowflake(now)}-${Math.random().toString(36).slice(2, 14)}`,
    application_id: state.botUser.id,
    channel_id: channel.id,
    message_id: message.id,
    user,
    created_at: now,
  };
  state.interactions.set(interaction.token, interaction);
  const payload = {
    app_permissions: '2248473465835073',
    application_id: interaction.application_id,
    authorizing_integration_owners: { '0': channel.guild_id },
    channel: apiChannel(channel),
    channel_id: channel.id,
    context: 0,
    data: { component_type: button.type ?? 2, custom_id: input.customId },
    entitlements: [],
    guild: { id: channel.guild_id, locale: 'en-US', features: [] },
    guild_id: channel.guild_id,
    guild_locale: 'en-US',
    id: interaction.id,
    locale: 'en-US',
    member: {
      avatar: null,
      communication_disabled_until: null,
      deaf: false,
      flags: 0,
      joined_at: new Date(now - 86_400_000).toISOString(),
      mute: false,
      nick: null,
      pending: false,
      permissions: '2248473465835073',
      premium_since: null,
      roles: [],
      user,
    },
    message: apiMessage(state, message),
    token: interaction.token,
    type: 3,
    version: 1,
  };
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(now / 1000));
  state.stats.interactionsSent++;
  const ids = { id: interaction.id, token: interaction.token };

  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)',
        'x-signature-ed25519': signInteraction(options.privateKey, timestamp, body),
        'x-signature-timestamp': timestamp,
      },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? 'no answer within the deadline' : 'the app could not be reached';
    return { status: null, response: null, applied: 'failed', error: `This interaction failed (${reason})`, interaction: ids };
  }
  let response: unknown = text;
  try {
    response = JSON.parse(text);
  } catch {
    // Not JSON: Discord shows "This interaction failed"; keep the text for the caller.
  }
  if (status < 200 || status >= 300 || typeof response !== 'object' || response === null) {
    return { status, response, applied: 'failed', error: 'This interaction failed', interaction: ids };
  }
  try {
    const applied = applyResponse(state, interaction, response as Record<string, unknown>, Date.now());
    return { status, response, applied, interaction: ids };
  } catch (err) {
    const detail = err instanceof DiscordError ? `${err.code} ${err.message}` : String(err);
    return { status, response, applied: 'failed', error: `This interaction failed (${detail})`, interaction: ids };
  }
}

function applyResponse(state: SimState, interaction: SimInteraction, response: Record<string, unknown>, now: number): ClickResult['applied'] {
  const data = response.data ?? {};
  const flags = typeof (data as { flags?: unknown }).flags === 'number' ? ((data as { flags: number }).flags) : 0;
  const channel = state.channels.get(interaction.channel_id);
  const source = state.message(interaction.channel_id, interaction.message_id);
  if (!channel || !source) throw new DiscordError(404, 10008, 'Unknown Message');
  const metadata = { id: interaction.id, type: 3, user: interaction.user, authorizing_integration_owners: { '0': channel.guild_id }, interacted_message_id: source.id };
  switch (response.type) {
    case 4: {
      const input = validateMessageBody(data, 'interaction');
      if (flags & 64) {
        interaction.ephemeral = true;
        source.sim.ephemeral.push(ephemeralReply(interaction, input, now));
        state.version++;
        return 'ephemeral';
      }
      const { message } = postMessage(state, channel, input, state.botUser, now, {
        webhook_id: interaction.application_id,
        application_id: interaction.application_id,
        interaction_metadata: metadata,
      });
      interaction.original_message_id = message.id;
      return 'message';
    }
    case 5: {
      if (flags & 64) {
        interaction.ephemeral = true;
        source.sim.ephemeral.push(ephemeralReply(interaction, { content: '' }, now));
        state.version++;
        return 'deferred';
      }
      const { message } = postMessage(state, channel, {}, state.botUser, now, {
        webhook_id: interaction.application_id,
        application_id: interaction.application_id,
        interaction_metadata: metadata,
        allowEmpty: true,
      });
      message.flags |= 128;
      message.sim.deferred = true;
      interaction.original_message_id = message.id;
      return 'deferred';
    }
    case 6:
      interaction.original_is_source = true;
      return 'deferred_update';
    case 7:
      interaction.original_is_source = true;
      editMessage(state, source, validateMessageBody(data, 'interaction'), data, now);
      return 'update';
    default:
      throw new DiscordError(400, 40060, `Interaction response type ${String(response.type)} is not valid for a component`);
  }
}
