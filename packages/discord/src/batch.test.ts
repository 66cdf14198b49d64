import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { BASE, logEntry, problemReport } from '../test/fixtures';
import { packEmbeds } from './batch';
import { formatPost } from './format';
import { messageEmbedsLength, validateMessageBody } from './limits';

const photos = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `https://img.example.org/${tag}-${i}.jpg`);
const post = (id: number, nPhotos = 0, text = `entry ${id}`) =>
  formatPost(logEntry({ id, text, url: `${BASE}/log-entries/${id}`, photoUrls: photos(nPhotos, String(id)) }), { baseUrl: BASE });

function checkPack(inputs: RESTPostAPIChannelMessageJSONBody[], opts: { maxEmbeds?: number; maxChars?: number } = {}) {
  const { messages, positions } = packEmbeds(inputs, opts);
  // Order is preserved and every input appears exactly once.
  expect(messages.flatMap((m) => m.sources)).toEqual(inputs.map((_, i) => i));
  for (const [i, input] of inputs.entries()) {
    const pos = positions[i]!;
    const packed = messages[pos.messageIndex]!.body.embeds!;
    // The post's embeds sit together, unchanged, from its recorded index.
    expect(packed.slice(pos.embedIndex, pos.embedIndex + input.embeds!.length)).toEqual(input.embeds);
  }
  for (const m of messages) {
    if (m.sources.length > 1) {
      expect(m.body.embeds!.length).toBeLessThanOrEqual(opts.maxEmbeds ?? 10);
      expect(messageEmbedsLength(m.body.embeds, 'utf16')).toBeLessThanOrEqual(opts.maxChars ?? 6000);
    }
    // One link button per packed post, to that post's record, in rows of at most 5.
    const rows = (m.body.components ?? []) as { components: { style: number; url: string }[] }[];
    expect(rows.every((r) => r.components.length <= 5)).toBe(true);
    expect(rows.flatMap((r) => r.components).map((b) => b.url)).toEqual(m.sources.map((i) => (inputs[i]!.components![0] as { components: { url: string }[] }).components[0]!.url));
    expect(m.body.allowed_mentions?.parse).toEqual([]);
  }
  return { messages, positions };
}

describe('packEmbeds', () => {
  it('packs ten single-embed posts into one message', () => {
    const { messages, positions } = checkPack(Array.from({ length: 10 }, (_, i) => post(i + 1)));
    expect(messages).toHaveLength(1);
    expect(positions.map((p) => p.embedIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(validateMessageBody(messages[0]!.body)).toEqual([]);
  });

  it('keeps galleries together and starts a new message when 10 embeds would be exceeded', () => {
    const inputs = [post(1, 4), post(2, 4), post(3, 4), post(4), post(5, 2)];
    const { messages, positions } = checkPack(inputs);
    expect(messages.map((m) => m.sources)).toEqual([[0, 1], [2, 3, 4]]);
    expect(positions).toEqual([
      { messageIndex: 0, embedIndex: 0 },
      { messageIndex: 0, embedIndex: 4 },
      { messageIndex: 1, embedIndex: 0 },
      { messageIndex: 1, embedIndex: 4 },
      { messageIndex: 1, embedIndex: 5 },
    ]);
  });

  it('respects the 6000-character budget', () => {
    const long = (id: number) => post(id, 0, 'word '.repeat(700));
    const { messages } = checkPack([long(1), long(2), long(3), post(4)]);
    expect(messages.map((m) => m.sources)).toEqual([[0], [1], [2, 3]]);
    for (const m of messages) expect(validateMessageBody(m.body)).toEqual([]);
  });

  it('never puts two posts with the same url next to each other (Discord would merge their galleries)', () => {
    const a = formatPost(logEntry({ photoUrls: photos(2, 'a') }), { baseUrl: BASE });
    const b = formatPost(logEntry({ photoUrls: photos(2, 'b') }), { baseUrl: BASE });
    expect(checkPack([a, b]).messages).toHaveLength(2);
  });

  it('merges role mentions and keeps allowed_mentions tight', () => {
    const roleMention = { roleId: '1234567890123456789' };
    const inputs = [
      formatPost(problemReport({ id: 1, url: `${BASE}/problem-reports/1`, priority: 'unplayable' }), { baseUrl: BASE, roleMention }),
      formatPost(problemReport({ id: 2, url: `${BASE}/problem-reports/2`, priority: 'unplayable' }), { baseUrl: BASE, roleMention }),
      post(3),
    ];
    const { messages } = checkPack(inputs);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.body.content).toBe('<@&1234567890123456789>');
    expect(messages[0]!.body.allowed_mentions).toEqual({ parse: [], roles: ['1234567890123456789'] });
    expect(packEmbeds([post(1), post(2)]).messages[0]!.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('labels each link button with its record, and leaves out posts without one (webhook mode)', () => {
    const closed = formatPost(problemReport({ id: 7, url: `${BASE}/problem-reports/7`, status: 'closed' }), { baseUrl: BASE });
    const { messages } = packEmbeds([closed, ...Array.from({ length: 6 }, (_, i) => post(i + 1))]);
    const rows = messages[0]!.body.components as { components: { label: string; url: string; style: number; custom_id?: string }[] }[];
    expect(rows.map((r) => r.components.length)).toEqual([5, 2]);
    const all = rows.flatMap((r) => r.components);
    expect(all[0]).toEqual({ type: 2, style: 5, label: '⚠️ EBD · Problem report #7', url: `${BASE}/problem-reports/7` });
    expect(all[1]).toMatchObject({ label: '🗒️ EBD · Log entry #1', url: `${BASE}/log-entries/1` });
    expect(all.some((b) => b.custom_id !== undefined)).toBe(false);
    expect(validateMessageBody(messages[0]!.body)).toEqual([]);
    const webhook = packEmbeds([1, 2].map((id) => formatPost(logEntry({ id, url: `${BASE}/log-entries/${id}` }), { baseUrl: BASE, mode: 'webhook' })));
    expect(webhook.messages[0]!.body.components).toBeUndefined();
  });

  it('honours smaller limits and handles empty input', () => {
    const { messages } = checkPack(Array.from({ length: 7 }, (_, i) => post(i + 1)), { maxEmbeds: 3 });
    expect(messages.map((m) => m.sources.length)).toEqual([3, 3, 1]);
    expect(packEmbeds([])).toEqual({ messages: [], positions: [] });
  });
});
