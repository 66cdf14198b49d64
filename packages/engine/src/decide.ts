/**
 * The one decision every delivery path takes on a failed Discord call: bot
 * posts, edits, flood batches, webhooks and digests. Pure: from the
 * classified failure and the attempt's position to what happens to the
 * ledger rows, the shared rate limiter and the BullMQ job. The paths only
 * carry it out ({@link applyDecision}), so they cannot drift apart.
 */
import type { DiscordFailure } from '@flipfix/discord';

/** What happens to the ledger rows of the failed send. */
export type LedgerAction =
  /** Tried again later; `keepClaim` when the request may have reached Discord (resent under the same nonce). */
  | { transition: 'retryLater'; keepClaim: boolean; reason: string; errorClass: string }
  | { transition: 'failed'; reason: string; errorClass: string }
  | { transition: 'skipped'; reason: string };

/** What happens to the job that sent it. */
export type JobAction =
  /** Back to the queue as delayed for `ms`, without using an attempt (a 429). */
  | { kind: 'delay'; ms: number }
  /** Thrown: BullMQ retries it with exponential backoff and jitter. */
  | { kind: 'retry' }
  /** Ended without retries (UnrecoverableError). */
  | { kind: 'fail' }
  /** Ended successfully: there is nothing left to do for it. */
  | { kind: 'done' };

/** The outcome of {@link decide}. */
export interface Decision {
  ledger: LedgerAction;
  /** Block a rate-limit scope for everyone: the channel's (or webhook's) own, or the global one. */
  limiter: { scope: 'target' | 'global'; ms: number } | null;
  job: JobAction;
  /** @discordjs/rest forgets its token after a 401: set it again so a fixed token is picked up. */
  resetToken: boolean;
  /** The webhook is deleted or its token invalid: Discord asks that it is not called again. */
  disableWebhook: boolean;
  /** Counted as a finished, failed delivery in the metrics. */
  countsAsFailed: boolean;
}

/** Discord codes with a meaning of their own for a delivery. */
export const DISCORD_CODES = {
  unknownMessage: 10008,
  archivedThread: 50083,
  tooManyEditsToOldMessage: 30046,
} as const;

/**
 * Decides what a failed send means. `attempt` is this attempt's number
 * (1-based) and `maxAttempts` how many the job has; a rate limit never uses
 * one. A message deleted in Discord (10008) or one Discord will no longer
 * let us edit (30046) ends the delivery as skipped with that reason: trying
 * again would fail the same way.
 */
export function decide(failure: DiscordFailure, attempt: number, maxAttempts: number): Decision {
  const none = { limiter: null, resetToken: false, disableWebhook: false, countsAsFailed: false } as const;
  if (failure.kind === 'rate_limited') {
    const ms = Math.max(0, Math.ceil(failure.retryAfterMs));
    return {
      ...none,
      ledger: { transition: 'retryLater', keepClaim: false, reason: `rate limited by Discord, retrying in ${ms} ms`, errorClass: 'rate_limited' },
      limiter: { scope: failure.global ? 'global' : 'target', ms },
      job: { kind: 'delay', ms },
    };
  }
  if (failure.kind === 'transient') {
    if (attempt < maxAttempts) {
      return { ...none, ledger: { transition: 'retryLater', keepClaim: true, reason: failure.reason, errorClass: 'transient' }, job: { kind: 'retry' } };
    }
    return {
      ...none,
      ledger: { transition: 'failed', reason: failure.reason, errorClass: 'transient' },
      job: { kind: 'fail' },
      countsAsFailed: true,
    };
  }
  if (failure.code === DISCORD_CODES.unknownMessage) {
    return { ...none, ledger: { transition: 'skipped', reason: 'the original message was deleted in Discord (10008); nothing to edit' }, job: { kind: 'done' } };
  }
  if (failure.code === DISCORD_CODES.tooManyEditsToOldMessage) {
    return {
      ...none,
      ledger: { transition: 'skipped', reason: 'Discord refuses more edits to this message, older than an hour (30046)' },
      job: { kind: 'done' },
    };
  }
  return {
    ...none,
    ledger: { transition: 'failed', reason: failure.reason, errorClass: `permanent:${failure.target}` },
    job: { kind: 'fail' },
    resetToken: failure.target === 'token',
    disableWebhook: failure.target === 'webhook',
    countsAsFailed: true,
  };
}
