/**
 * The few Discord calls the rich features make besides posting: thread
 * lookups and unarchiving, and a bounded wait on a rate limit for the small
 * follow-up calls (threads, reactions) that run inside a delivery job.
 */
import { DiscordAPIError, RateLimitError, type REST } from '@discordjs/rest';
import { type APIChannel, Routes } from 'discord-api-types/v10';

/** Discord's JSON error code of a failed call, or null. */
export function discordCode(err: unknown): number | null {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : null;
}

/** Longest rate-limit wait a follow-up call sits out before giving up. */
const MAX_FOLLOW_UP_WAIT_MS = 5_000;

/**
 * Runs `call`, waiting out a rate limit up to `attempts` times. The client
 * never waits by itself (`rejectOnRateLimit`), and reactions have a tight
 * per-channel limit on Discord, so a short wait here is the cheap way through.
 */
export async function withRateLimitWait<T>(call: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof RateLimitError) || i >= attempts || err.retryAfter > MAX_FOLLOW_UP_WAIT_MS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, err.retryAfter)));
    }
  }
}

/** The state of a thread as far as posting into it goes. */
export type ThreadState = 'open' | 'archived' | 'gone';

/** `GET /channels/{id}`: `gone` for 10003 (deleted) or when it is not a thread any more. */
export async function threadState(rest: REST, threadId: string): Promise<ThreadState> {
  try {
    const channel = (await withRateLimitWait(() => rest.get(Routes.channel(threadId)))) as APIChannel;
    if (!('thread_metadata' in channel) || channel.thread_metadata === undefined) return 'open';
    return channel.thread_metadata.archived ? 'archived' : 'open';
  } catch (err) {
    const code = discordCode(err);
    if (code === 10003 || (err instanceof DiscordAPIError && err.status === 404)) return 'gone';
    throw err;
  }
}

/** `PATCH /channels/{id}` `{archived: false}`. */
export async function unarchiveThread(rest: REST, threadId: string): Promise<void> {
  await withRateLimitWait(() => rest.patch(Routes.channel(threadId), { body: { archived: false } }));
}
