import { describe, expect, it } from 'vitest';
import { channelNamer } from './guild';
import { describeTarget } from './targets';

const names = {
  channel: channelNamer([{ id: '1100000000000000001', name: 'machine-notifications' }]),
  endpoint: (id: string) => (id === 'e1' ? 'Front desk' : undefined),
};
const text = (row: Parameters<typeof describeTarget>[0]) => describeTarget(row, names).toString().replace(/<[^>]+>/g, '');

describe('describeTarget', () => {
  it('names channels, endpoints and edited posts instead of ledger keys', () => {
    expect(text({ target: 'bot', targetKey: '1100000000000000001' })).toBe('bot → #machine-notifications');
    expect(text({ target: 'webhook', targetKey: 'e1' })).toBe('webhook Front desk');
    expect(text({ target: 'webhook', targetKey: 'gone' })).toBe('webhook (deleted endpoint)');
    expect(text({ target: 'bot', targetKey: 'edit:problem_report:12', discordChannelId: '1100000000000000001' })).toBe(
      'bot edits the post of problem report #12 in #machine-notifications',
    );
    expect(text({ target: 'bot', targetKey: 'edit:part_request:3' })).toBe('bot edits the post of part request #3');
  });

  it('keeps the key and the id on hover, and says when a channel is unknown', () => {
    expect(describeTarget({ target: 'bot', targetKey: '1100000000000000001' }, names).toString()).toContain('title="channel id 1100000000000000001"');
    expect(text({ target: 'bot', targetKey: '1100000000000000099' })).toBe('bot → unknown channel 1100000000000000099');
    expect(channelNamer(null)('1100000000000000099').toString()).toBe('<code class="id" title="channel id">1100000000000000099</code>');
  });
});
