import { describe, expect, it } from 'vitest';
import { SettingsPatchSchema } from '@flipfix/db';
import { readSettingsForm, settingLabel, settingsErrors } from './settings-form';

describe('the settings form', () => {
  it('reports every bad field at once, by form field', () => {
    const { patch, errors } = readSettingsForm({
      channelId: 'abc',
      'events.log_entry_created.present': '1',
      'reactions.log_entry_created': '👀 ✅ 🔧 🎉',
      'events.problem_report_created.present': '1',
      'reactions.problem_report_created': 'hello',
      'digest.quietSeconds': 'soon',
      'digest.maxSeconds': '5',
    });
    expect(errors).toEqual({ 'digest.quietSeconds': 'Must be a whole number of seconds.' });
    const parsed = SettingsPatchSchema.safeParse(patch);
    if (parsed.success) throw new Error('the patch should be refused');
    expect(settingsErrors(parsed.error)).toEqual({
      channelId: 'Must be a Discord id: 17 to 20 digits.',
      'reactions.log_entry_created': 'At most 3 reactions.',
      'reactions.problem_report_created': 'Reaction 1: must be an emoji or a custom emoji name:id.',
      'digest.maxSeconds': 'Must be at least 10.',
    });
  });

  it('labels audited settings in words', () => {
    expect(settingLabel('deliveryMode')).toBe('Delivery mode');
    expect(settingLabel('events.part_request_created.enabled')).toBe('Part request created: posted');
    expect(settingLabel('events.part_request_created.channelId')).toBe('Part request created: channel');
    expect(settingLabel('reactions.log_entry_created')).toBe('Log entry created: reactions');
    expect(settingLabel('something.else')).toBe('something.else');
  });
});
