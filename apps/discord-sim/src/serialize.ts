/** Turns stored objects into the JSON Discord answers (dropping the simulator's bookkeeping). */
import type { SimChannel, SimMessage, SimState, SimWebhook } from './state';

/** Discord's channel object for a text channel or thread. */
export function apiChannel(channel: SimChannel): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: channel.id,
    type: channel.type,
    guild_id: channel.guild_id,
    name: channel.name,
    parent_id: channel.parent_id,
    last_message_id: channel.last_message_id,
    rate_limit_per_user: 0,
    flags: 0,
  };
  if (channel.thread_metadata) {
    return {
      ...base,
      owner_id: channel.owner_id ?? null,
      message_count: channel.message_count,
      total_message_sent: channel.message_count,
      member_count: 1,
      thread_metadata: { ...channel.thread_metadata },
    };
  }
  return { ...base, position: channel.position, topic: null, nsfw: false, permission_overwrites: [] };
}

/** Discord's message object; `thread` is attached when a thread was started from the message. */
export function apiMessage(state: SimState, message: SimMessage): Record<string, unknown> {
  const { sim: _sim, thread_id, ...rest } = message;
  const out: Record<string, unknown> = { ...rest };
  if (message.reactions.length === 0) delete out.reactions;
  else {
    out.reactions = message.reactions.map((r) => ({
      ...r,
      count_details: { burst: 0, normal: r.count },
      me_burst: false,
      burst_me: false,
      burst_count: 0,
      burst_colors: [],
    }));
  }
  if (thread_id !== undefined) {
    const thread = state.channels.get(thread_id);
    if (thread) out.thread = apiChannel(thread);
  }
  return out;
}

/** Discord's webhook object as `GET /webhooks/{id}/{token}` returns it. */
export function apiWebhook(webhook: SimWebhook): Record<string, unknown> {
  return { ...webhook };
}
