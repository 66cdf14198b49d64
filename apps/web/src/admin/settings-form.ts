/**
 * The settings form as data: settings to the form's values, the submitted
 * form to a settings patch, and validation issues to the form's fields in
 * plain words. The form reports every bad field at once; a patch is only
 * written when none is left.
 */
import { fieldsOf, type z } from '@flipfix/config';
import type { NotifySettings } from '@flipfix/db';
import { EVENT_LABELS, EVENT_TYPES, type EventType } from '@flipfix/events';
import { type FieldErrors, plainMessage } from '../views/forms';

/** The settings as the form's values (checkboxes: `on` when ticked). */
export function settingsFormValues(s: NotifySettings): Record<string, string> {
  const values: Record<string, string> = {
    deliveryMode: s.deliveryMode,
    channelId: s.channelId ?? '',
    unplayableRoleId: s.unplayableRoleId ?? '',
    'digest.quietSeconds': String(s.digest.quietSeconds),
    'digest.maxSeconds': String(s.digest.maxSeconds),
  };
  if (s.threadsEnabled) values.threadsEnabled = 'on';
  if (s.digest.enabled) values['digest.enabled'] = 'on';
  for (const t of EVENT_TYPES) {
    if (s.events[t].enabled) values[`events.${t}.enabled`] = 'on';
    values[`events.${t}.channelId`] = s.events[t].channelId ?? '';
    values[`reactions.${t}`] = (s.reactions[t] ?? []).join(' ');
  }
  return values;
}

/**
 * The submitted form as a settings patch (unchecked, for the schema to
 * check), plus the errors only the form can make (a number field that is not a number).
 */
export function readSettingsForm(body: Record<string, unknown>): { patch: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const nullable = (k: string) => (text(k) === '' ? null : text(k));
  const events: Record<string, { enabled: boolean; channelId: string | null }> = {};
  const reactions: Record<string, string[]> = {};
  for (const t of EVENT_TYPES) {
    if (body[`events.${t}.present`] === undefined) continue;
    events[t] = { enabled: body[`events.${t}.enabled`] === 'on', channelId: nullable(`events.${t}.channelId`) };
    // Only types whose form has the field: a status change edits a post and takes no reactions.
    if (body[`reactions.${t}`] !== undefined) reactions[t] = text(`reactions.${t}`).split(/\s+/).filter((e) => e !== '');
  }
  const seconds = (k: string): number | undefined => {
    const v = text(k);
    if (v === '') return undefined;
    if (!/^\d{1,6}$/.test(v)) {
      errors[k] = 'Must be a whole number of seconds.';
      return undefined;
    }
    return Number(v);
  };
  const quietSeconds = seconds('digest.quietSeconds');
  const maxSeconds = seconds('digest.maxSeconds');
  const patch = {
    ...(text('deliveryMode') === '' ? {} : { deliveryMode: text('deliveryMode') }),
    channelId: nullable('channelId'),
    ...(Object.keys(events).length > 0 ? { events, reactions } : {}),
    threadsEnabled: body.threadsEnabled === 'on',
    unplayableRoleId: nullable('unplayableRoleId'),
    digest: {
      enabled: body['digest.enabled'] === 'on',
      ...(quietSeconds === undefined ? {} : { quietSeconds }),
      ...(maxSeconds === undefined ? {} : { maxSeconds }),
    },
  };
  return { patch, errors };
}

/** Validation issues by form field: an emoji's issue (`reactions.<type>.1`) belongs to its type's field. */
export function settingsErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, message] of Object.entries(fieldsOf(error))) {
    const field = path.startsWith('reactions.') ? path.split('.').slice(0, 2).join('.') : path;
    const words = message === 'must be at least quietSeconds' ? 'Must be at least the quiet period.' : plainMessage(message);
    const item = /^reactions\.\w+\.(\d+)$/.exec(path)?.[1];
    out[field] ??= item === undefined ? words : `Reaction ${Number(item) + 1}: ${words.charAt(0).toLowerCase()}${words.slice(1)}`;
  }
  return out;
}

const SETTING_NAMES: Record<string, string> = {
  deliveryMode: 'Delivery mode',
  channelId: 'Default channel',
  threadsEnabled: 'Threads',
  unplayableRoleId: 'Role on unplayable reports',
  'digest.enabled': 'Digest',
  'digest.quietSeconds': 'Digest quiet period',
  'digest.maxSeconds': 'Digest longest wait',
};

/** An audited setting's key (`events.log_entry_created.enabled`) in words. */
export function settingLabel(field: string): string {
  const known = SETTING_NAMES[field];
  if (known !== undefined) return known;
  const [group, type, leaf] = field.split('.');
  const label = EVENT_LABELS[type as EventType];
  if (label === undefined) return field;
  if (group === 'reactions') return `${label}: reactions`;
  if (group === 'events') return `${label}: ${leaf === 'enabled' ? 'posted' : leaf === 'channelId' ? 'channel' : leaf}`;
  return field;
}
