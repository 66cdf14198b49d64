import { describe, expect, it } from 'vitest';
import { formatPost } from '@flipfix/discord';
import type { PostSubject } from '@flipfix/events';
import { comparePayloads } from './parity';

const subject: PostSubject = {
  kind: 'problem_report',
  id: 7,
  url: 'https://flipfix.test/problem-reports/7',
  photoUrls: ['https://img.example/1.jpg', 'https://img.example/2.jpg'],
  createdAt: new Date('2026-01-02T03:04:05Z'),
  machine: { id: 1, name: 'Eight Ball Deluxe', shortName: 'EBD' },
  status: 'open',
  problemType: 'stuck_ball',
  priority: 'unplayable',
  description: 'Ball stuck',
  reporterName: 'Val',
  reporterContact: null,
  claimedByName: null,
  links: {},
};
const opts = { baseUrl: 'https://flipfix.test' };
const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('comparePayloads', () => {
  it('a bot post (buttons, nonce, role ping) and a webhook post of one event are equivalent', () => {
    const bot = { ...formatPost(subject, { ...opts, mode: 'bot', roleMention: { roleId: '1400000000000000004' } }), nonce: 'abc', enforce_nonce: true };
    const hook = formatPost(subject, { ...opts, mode: 'webhook' });
    expect(bot.components?.length).toBeGreaterThan(0);
    expect(bot.content).toContain('<@&1400000000000000004>');
    expect(comparePayloads(json(bot), json(hook))).toEqual([]);
  });

  it('names the embed fields that differ', () => {
    const bot = formatPost(subject, { ...opts, mode: 'bot' });
    const hook = formatPost({ ...subject, description: 'Other text', photoUrls: ['https://img.example/1.jpg'] }, { ...opts, mode: 'webhook' });
    expect(comparePayloads(json(bot), json(hook))).toEqual(['embeds.length', 'embeds[0].description']);
  });

  it('finds the event inside a batched bot message by its record link', () => {
    const other = formatPost({ ...subject, id: 8, url: 'https://flipfix.test/problem-reports/8', photoUrls: [] }, { ...opts, mode: 'bot' });
    const own = formatPost(subject, { ...opts, mode: 'bot' });
    const batch = { ...own, embeds: [...(other.embeds ?? []), ...(own.embeds ?? [])] };
    const hook = formatPost(subject, { ...opts, mode: 'webhook' });
    expect(comparePayloads(json(batch), json(hook), { botEmbedIndex: 1 })).toEqual([]);
    // A message that does not hold the record is a difference.
    expect(comparePayloads(json(other), json(hook))).not.toEqual([]);
  });

  it('packing is not a difference: a packed row stores its own part, with its index in the message', () => {
    // What a flood batch member's ledger row holds: its own body, and embed index 3 of the packed message.
    const own = formatPost(subject, { ...opts, mode: 'bot' });
    const hook = formatPost(subject, { ...opts, mode: 'webhook' });
    expect(comparePayloads(json(own), json(hook), { botEmbedIndex: 3 })).toEqual([]);
  });

  it('a missing payload is a difference, not a match', () => {
    expect(comparePayloads(null, json(formatPost(subject, opts)))).toEqual(['bot payload missing']);
    expect(comparePayloads(json(formatPost(subject, opts)), undefined)).toEqual(['webhook payload missing']);
  });
});
