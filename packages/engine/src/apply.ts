/**
 * Carries out a {@link Decision} on the ledger, the shared rate limiter and
 * the metrics, the same way for every path; and turns its job action into
 * what BullMQ expects from a processor.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { ledger, type Queryable } from '@flipfix/db';
import type { DiscordFailure } from '@flipfix/discord';
import type { Logger } from '@flipfix/logger';
import { type Decision, decide, type JobAction } from './decide';

/** What {@link applyDecision} writes to. */
export interface ApplyDeps {
  db: Queryable;
  limiter: { block(scope: string, retryAfterMs: number): Promise<void> };
  metrics?: { deliveryOutcome: { inc(labels: { target: string; outcome: string }, value?: number): void }; discord429: { inc(): void } } | undefined;
  log: Logger;
  /** Which path, for metrics. */
  target: 'bot' | 'webhook';
  /** Sets the bot token again (after a 401). */
  resetToken?: () => void;
  /** Disables the webhook endpoint (deleted, or its token invalid). */
  disableWebhook?: (reason: string) => Promise<unknown>;
}

/**
 * Writes the decision for the deliveries `ids` (one send: a post, or a
 * packed message's members) whose rate-limit scope is `scope`.
 */
export async function applyDecision(deps: ApplyDeps, decision: Decision, failure: DiscordFailure, ids: readonly string[], scope: string): Promise<void> {
  if (decision.limiter) {
    deps.metrics?.discord429.inc();
    await deps.limiter.block(decision.limiter.scope === 'global' ? 'global' : scope, decision.limiter.ms);
  }
  if (decision.resetToken) deps.resetToken?.();
  if (decision.disableWebhook) await deps.disableWebhook?.(failure.reason);
  const action = decision.ledger;
  if (action.transition === 'retryLater') {
    await ledger.retryLater(deps.db, ids, { keepClaim: action.keepClaim, reason: action.reason, errorClass: action.errorClass });
  } else if (action.transition === 'failed') {
    await ledger.failed(deps.db, ids, action.reason, action.errorClass);
  } else {
    await ledger.skipped(deps.db, ids, action.reason);
  }
  if (decision.countsAsFailed) deps.metrics?.deliveryOutcome.inc({ target: deps.target, outcome: 'failed' }, ids.length);
  if (action.transition === 'skipped') deps.metrics?.deliveryOutcome.inc({ target: deps.target, outcome: 'skipped' }, ids.length);
  const fields = { deliveries: ids.length, reason: action.reason, ...('code' in failure && failure.code !== undefined ? { code: failure.code } : {}) };
  if (decision.job.kind === 'delay') deps.log.warn({ ...fields, retryAfterMs: decision.job.ms }, 'rate limited by discord');
  else if (decision.job.kind === 'retry') deps.log.warn(fields, 'delivery failed; will retry');
  else if (action.transition === 'skipped') deps.log.warn(fields, 'delivery skipped');
  else if (failure.kind === 'permanent') deps.log.error(fields, 'delivery failed permanently');
  else deps.log.error(fields, 'delivery failed after retries');
}

/**
 * Ends a processor run as `action` says: moved to delayed (no attempt used),
 * thrown for BullMQ's backoff, failed without retries, or returned.
 */
export async function finishJob(job: Job, token: string | undefined, action: JobAction, reason: string): Promise<void> {
  if (action.kind === 'delay') {
    await job.moveToDelayed(Date.now() + Math.ceil(action.ms), token);
    throw new DelayedError();
  }
  if (action.kind === 'retry') throw new Error(reason);
  if (action.kind === 'fail') throw new UnrecoverableError(reason);
}

/**
 * The whole of a failed send, as every path handles it: decides on
 * `failure` at this attempt, carries the decision out for `ids`, and returns
 * it so the caller can end (or keep) its job accordingly.
 */
export async function handleFailure(
  deps: ApplyDeps,
  failure: DiscordFailure,
  position: { attempt: number; maxAttempts: number },
  ids: readonly string[],
  scope: string,
): Promise<Decision> {
  const decision = decide(failure, position.attempt, position.maxAttempts);
  await applyDecision({ ...deps, log: deps.log.child({ attempt: position.attempt, of: position.maxAttempts }) }, decision, failure, ids, scope);
  return decision;
}

/** This run's attempt number (1-based) and how many the job has. */
export function attemptOf(job: Pick<Job, 'attemptsMade' | 'opts'>): { attempt: number; maxAttempts: number } {
  return { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 };
}
