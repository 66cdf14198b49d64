import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '@flipfix/events';
import type { NotifySettings } from '@flipfix/db';
import { planTargets } from './router';

const CHANNEL = '1100000000000000001';

function settings(over: Partial<NotifySettings> = {}): NotifySettings {
  const events = Object.fromEntries(EVENT_TYPES.map((t) => [t, { enabled: true, channelId: null }])) as NotifySettings['events'];
  return {
    deliveryMode: 'bot',
    channelId: null,
    events,
    threadsEnabled: false,
    reactions: {},
    unplayableRoleId: null,
    digest: { enabled: false, quietSeconds: 300, maxSeconds: 900 },
    version: 1,
    updatedAt: new Date(),
    ...over,
  };
}

const created = { type: 'problem_report_created', entityType: 'problem_report', entityId: 7 };

describe('planTargets', () => {
  it('bot mode: one post to the default channel', () => {
    expect(planTargets(created, settings(), CHANNEL, ['w1'])).toEqual([{ target: 'bot', targetKey: CHANNEL, action: 'post' }]);
  });

  it('uses the settings channel, and a per-event override before it', () => {
    const s = settings({ channelId: '1200000000000000000' });
    expect(planTargets(created, s, CHANNEL, [])[0]?.targetKey).toBe('1200000000000000000');
    s.events.problem_report_created = { enabled: true, channelId: '1300000000000000000' };
    expect(planTargets(created, s, CHANNEL, [])[0]?.targetKey).toBe('1300000000000000000');
    expect(planTargets({ ...created, type: 'log_entry_created' }, s, CHANNEL, [])[0]?.targetKey).toBe('1200000000000000000');
  });

  it('webhooks mode: only the subscribed endpoints', () => {
    expect(planTargets(created, settings({ deliveryMode: 'webhooks' }), CHANNEL, ['w1', 'w2'])).toEqual([
      { target: 'webhook', targetKey: 'w1', action: 'post' },
      { target: 'webhook', targetKey: 'w2', action: 'post' },
    ]);
  });

  it('both mode: the bot channel and every endpoint', () => {
    const plan = planTargets(created, settings({ deliveryMode: 'both' }), CHANNEL, ['w1']);
    expect(plan.map((p) => p.target)).toEqual(['bot', 'webhook']);
  });

  it('a disabled type is planned as skipped for the bot and not sent to webhooks', () => {
    const s = settings({ deliveryMode: 'both' });
    s.events.problem_report_created = { enabled: false, channelId: null };
    expect(planTargets(created, s, CHANNEL, ['w1'])).toEqual([
      { target: 'bot', targetKey: CHANNEL, action: 'post', skipReason: 'event type disabled in settings' },
    ]);
  });

  it('a status change edits the original post and never posts again', () => {
    const plan = planTargets({ ...created, type: 'problem_report_status_changed' }, settings({ deliveryMode: 'both' }), CHANNEL, ['w1']);
    expect(plan).toEqual([{ target: 'bot', targetKey: 'edit:problem_report:7', action: 'edit' }]);
    expect(planTargets({ ...created, type: 'problem_report_status_changed' }, settings({ deliveryMode: 'webhooks' }), CHANNEL, ['w1'])).toEqual([]);
  });

  it('a part request update with a new status also edits the request post', () => {
    const update = { type: 'part_request_update_created', entityType: 'part_request_update', entityId: 3, editsPartRequestId: 9 };
    expect(planTargets(update, settings(), CHANNEL, []).map((t) => t.targetKey)).toEqual([CHANNEL, 'edit:part_request:9']);
    expect(planTargets({ ...update, editsPartRequestId: null }, settings(), CHANNEL, []).length).toBe(1);
  });

  it('ignores unknown event types', () => {
    expect(planTargets({ ...created, type: 'machine_exploded' }, settings(), CHANNEL, [])).toEqual([]);
  });
});
