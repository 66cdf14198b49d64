import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, createEndpointSchema, updateEndpointSchema } from './validation';

const ID = '1234567890123456789';
const TOKEN = 'aBcD-ef_GhIjKlMnOpQrStUvWxYz0123456789';

describe('checkWebhookUrl', () => {
  it.each([
    `https://discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://discord.com/api/v10/webhooks/${ID}/${TOKEN}`,
    `https://canary.discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://discordapp.com/api/webhooks/${ID}/${TOKEN}/`,
    `http://127.0.0.1:4100/api/webhooks/${ID}/${TOKEN}`,
  ])('accepts %s', (url) => {
    expect(checkWebhookUrl(url)).toBeNull();
  });

  it.each([
    'not a url',
    'ftp://discord.com/api/webhooks/1234567890123456789/abc',
    'https://discord.com/api/channels/1234567890123456789/messages',
    'https://discord.com/api/webhooks/123/abc',
    `https://discord.com/api/webhooks/${ID}/`,
    `https://user:pw@example.org/webhooks/${ID}/${TOKEN}`,
  ])('refuses %s', (url) => {
    expect(checkWebhookUrl(url)).toMatch(/must/);
  });

  it('refuses development hosts when only Discord is allowed', () => {
    expect(checkWebhookUrl(`http://127.0.0.1:4100/api/webhooks/${ID}/${TOKEN}`, { allowDevelopmentUrls: false })).toMatch(/discord\.com/);
    expect(checkWebhookUrl(`https://discord.com/api/webhooks/${ID}/${TOKEN}`, { allowDevelopmentUrls: false })).toBeNull();
  });
});

describe('endpoint input', () => {
  it('trims the name, dedupes events, defaults nothing it should not', () => {
    const v = createEndpointSchema().parse({ name: '  Workshop  ', url: `https://discord.com/api/webhooks/${ID}/${TOKEN}`, events: ['log_entry_created', 'log_entry_created'] });
    expect(v).toEqual({ name: 'Workshop', url: `https://discord.com/api/webhooks/${ID}/${TOKEN}`, events: ['log_entry_created'] });
  });

  it('names every bad field, counts the name in characters, and never echoes the URL', () => {
    const url = `https://discord.com/api/webhooks/1/${TOKEN}`;
    const r = createEndpointSchema().safeParse({ name: '🎱'.repeat(81), url, events: ['nope'], extra: 1 });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.') || i.code);
    expect(paths).toEqual(expect.arrayContaining(['name', 'url', 'events.0', 'unrecognized_keys']));
    expect(JSON.stringify(r.error!.issues)).not.toContain(TOKEN);
    expect(createEndpointSchema().safeParse({ name: '🎱'.repeat(80), url: `https://discord.com/api/webhooks/${ID}/${TOKEN}`, events: [] }).success).toBe(true);
    expect(createEndpointSchema().safeParse({ name: '   ', url: `https://discord.com/api/webhooks/${ID}/${TOKEN}`, events: [] }).success).toBe(false);
  });

  it('a patch may change one field', () => {
    expect(updateEndpointSchema().parse({ enabled: false })).toEqual({ enabled: false });
    expect(updateEndpointSchema().safeParse({ events: ['problem_report_created', 'bogus'] }).success).toBe(false);
  });
});
