import { EVENT_TYPES } from '@flipfix/events';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { diffSettings, mergeSettings, type NotifySettings, parseSettingsPatch, SettingsPatchSchema } from './settings.ts';

const base: NotifySettings = {
  deliveryMode: 'bot',
  channelId: null,
  events: Object.fromEntries(EVENT_TYPES.map((t) => [t, { enabled: true, channelId: null }])) as NotifySettings['events'],
  threadsEnabled: false,
  reactions: {},
  unplayableRoleId: null,
  digest: { enabled: false, quietSeconds: 300, maxSeconds: 900 },
  version: 1,
  updatedAt: new Date(0),
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseSettingsPatch(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid');
    return (err as AppError).field;
  }
  throw new Error('accepted');
}

describe('SettingsPatchSchema', () => {
  it('accepts the documented patches', () => {
    expect(parseSettingsPatch({ events: { part_request_created: { enabled: false } } })).toEqual({
      events: { part_request_created: { enabled: false } },
    });
    expect(parseSettingsPatch({ deliveryMode: 'both' })).toEqual({ deliveryMode: 'both' });
    expect(parseSettingsPatch({ channelId: null, unplayableRoleId: '12345678901234567' })).toBeTruthy();
    expect(
      parseSettingsPatch({ reactions: { problem_report_created: ['👀', '👍🏽', '🏳️‍🌈'], log_entry_created: ['<:pinball:123456789012345678>'] } }),
    ).toEqual({ reactions: { problem_report_created: ['👀', '👍🏽', '🏳️‍🌈'], log_entry_created: ['pinball:123456789012345678'] } });
    expect(parseSettingsPatch({ digest: { quietSeconds: 10, maxSeconds: 86_400 } })).toBeTruthy();
  });

  it('rejects unknown keys, bad snowflakes, bad modes, bad emoji and bad digest windows, naming the field', () => {
    expect(fieldOf({ colour: 'red' })).toBe('colour');
    expect(fieldOf({ events: { made_up_event: { enabled: true } } })).toBe('events.made_up_event');
    expect(fieldOf({ events: { log_entry_created: { enabled: true, extra: 1 } } })).toBe('events.log_entry_created.extra');
    expect(fieldOf({ channelId: '1234' })).toBe('channelId');
    expect(fieldOf({ channelId: '123456789012345678901' })).toBe('channelId');
    expect(fieldOf({ events: { log_entry_created: { channelId: 'general' } } })).toBe('events.log_entry_created.channelId');
    expect(fieldOf({ deliveryMode: 'carrier-pigeon' })).toBe('deliveryMode');
    expect(fieldOf({ reactions: { log_entry_created: ['👀', '👍', '🎉', '🔧'] } })).toBe('reactions.log_entry_created');
    expect(fieldOf({ reactions: { log_entry_created: ['hello'] } })).toBe('reactions.log_entry_created.0');
    expect(fieldOf({ reactions: { log_entry_created: ['@everyone'] } })).toBe('reactions.log_entry_created.0');
    expect(fieldOf({ reactions: { log_entry_created: ['👀', '👀'] } })).toBe('reactions.log_entry_created');
    expect(fieldOf({ digest: { quietSeconds: 5 } })).toBe('digest.quietSeconds');
    expect(fieldOf({ digest: { maxSeconds: 86_401 } })).toBe('digest.maxSeconds');
    expect(fieldOf({ digest: { quietSeconds: 600, maxSeconds: 300 } })).toBe('digest.maxSeconds');
    expect(fieldOf({ digest: { quietSeconds: 1.5 } })).toBe('digest.quietSeconds');
    expect(SettingsPatchSchema.safeParse({ threadsEnabled: 'yes' }).success).toBe(false);
  });
});

describe('mergeSettings and diffSettings', () => {
  it('a nested patch touches only its leaf', () => {
    const after = mergeSettings(base, { events: { part_request_created: { enabled: false } } });
    expect(after.events.part_request_created).toEqual({ enabled: false, channelId: null });
    expect(after.events.log_entry_created).toEqual(base.events.log_entry_created);
    expect(diffSettings(base, after)).toEqual([{ field: 'events.part_request_created.enabled', from: true, to: false }]);
  });

  it('null clears a channel, reaction lists are replaced and [] removes them, undefined keeps', () => {
    const withChannel = mergeSettings(base, { channelId: '11111111111111111', reactions: { log_entry_created: ['👀'] } });
    const cleared = mergeSettings(withChannel, { channelId: null, reactions: { log_entry_created: [] } });
    expect(cleared.channelId).toBeNull();
    expect(cleared.reactions).toEqual({});
    expect(diffSettings(withChannel, cleared)).toEqual([
      { field: 'channelId', from: '11111111111111111', to: null },
      { field: 'reactions.log_entry_created', from: ['👀'], to: null },
    ]);
    expect(diffSettings(withChannel, mergeSettings(withChannel, {}))).toEqual([]);
  });
});
