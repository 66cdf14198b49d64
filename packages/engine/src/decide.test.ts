import { describe, expect, it } from 'vitest';
import type { DiscordFailure } from '@flipfix/discord';
import { decide } from './decide';

const rateLimited: DiscordFailure = { kind: 'rate_limited', retryAfterMs: 1234.2, global: false, reason: 'rate limited on channel 1 for 1235 ms' };
const globalLimit: DiscordFailure = { kind: 'rate_limited', retryAfterMs: 500, global: true, reason: 'rate limited (global)' };
const transient: DiscordFailure = { kind: 'transient', status: 502, reason: 'Discord answered 502: Bad Gateway' };
const permanent = (target: Extract<DiscordFailure, { kind: 'permanent' }>['target'], code?: number): DiscordFailure => ({
  kind: 'permanent',
  target,
  status: 400,
  ...(code === undefined ? {} : { code }),
  reason: `reason for ${target}${code ? ` (${code})` : ''}`,
});

// [case, failure, attempt, max, expected ledger transition, keepClaim, limiter scope, job kind, resetToken, disableWebhook, countsAsFailed]
const table: [string, DiscordFailure, number, number, string, boolean | null, 'target' | 'global' | null, string, boolean, boolean, boolean][] = [
  ['429 on the first attempt', rateLimited, 1, 8, 'retryLater', false, 'target', 'delay', false, false, false],
  ['429 on the last attempt still waits (a rate limit uses no attempt)', rateLimited, 8, 8, 'retryLater', false, 'target', 'delay', false, false, false],
  ['global 429', globalLimit, 3, 8, 'retryLater', false, 'global', 'delay', false, false, false],
  ['5xx on the first attempt', transient, 1, 8, 'retryLater', true, null, 'retry', false, false, false],
  ['5xx on the next-to-last attempt', transient, 7, 8, 'retryLater', true, null, 'retry', false, false, false],
  ['5xx on the last attempt', transient, 8, 8, 'failed', null, null, 'fail', false, false, true],
  ['5xx with a single attempt allowed', transient, 1, 1, 'failed', null, null, 'fail', false, false, true],
  ['401 bad token', permanent('token'), 1, 8, 'failed', null, null, 'fail', true, false, true],
  ['401 bad token on the last attempt', permanent('token'), 8, 8, 'failed', null, null, 'fail', true, false, true],
  ['unknown channel', permanent('channel', 10003), 1, 8, 'failed', null, null, 'fail', false, false, true],
  ['missing permissions', permanent('permission', 50013), 2, 8, 'failed', null, null, 'fail', false, false, true],
  ['invalid body', permanent('body', 50035), 1, 8, 'failed', null, null, 'fail', false, false, true],
  ['deleted webhook', permanent('webhook', 10015), 1, 8, 'failed', null, null, 'fail', false, true, true],
  ['archived thread answered after the unarchive', permanent('channel', 50083), 1, 8, 'failed', null, null, 'fail', false, false, true],
  ['message deleted (10008)', permanent('message', 10008), 1, 8, 'skipped', null, null, 'done', false, false, false],
  ['message deleted on the last attempt', permanent('message', 10008), 8, 8, 'skipped', null, null, 'done', false, false, false],
  ['too many edits to an old message (30046)', permanent('message', 30046), 1, 8, 'skipped', null, null, 'done', false, false, false],
  ['other permanent', permanent('other'), 1, 8, 'failed', null, null, 'fail', false, false, true],
];

describe('decide', () => {
  it.each(table)('%s', (_name, failure, attempt, max, transition, keepClaim, scope, job, resetToken, disableWebhook, countsAsFailed) => {
    const d = decide(failure, attempt, max);
    expect(d.ledger.transition).toBe(transition);
    if (keepClaim !== null) expect(d.ledger).toMatchObject({ keepClaim });
    expect(d.limiter?.scope ?? null).toBe(scope);
    expect(d.job.kind).toBe(job);
    expect(d.resetToken).toBe(resetToken);
    expect(d.disableWebhook).toBe(disableWebhook);
    expect(d.countsAsFailed).toBe(countsAsFailed);
    expect(d.ledger.reason).not.toBe('');
  });

  it('waits exactly what Discord asks, rounded up, and blocks the scope as long', () => {
    const d = decide(rateLimited, 1, 8);
    expect(d.job).toEqual({ kind: 'delay', ms: 1235 });
    expect(d.limiter).toEqual({ scope: 'target', ms: 1235 });
    expect(d.ledger).toMatchObject({ errorClass: 'rate_limited' });
  });

  it('keeps the classifier’s reason and names the failure class for the ledger', () => {
    expect(decide(permanent('token'), 1, 8).ledger).toEqual({ transition: 'failed', reason: 'reason for token', errorClass: 'permanent:token' });
    expect(decide(transient, 8, 8).ledger).toMatchObject({ transition: 'failed', errorClass: 'transient', reason: transient.reason });
  });
});
