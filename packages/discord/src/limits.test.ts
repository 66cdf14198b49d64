import { describe, expect, it } from 'vitest';
import { codePointLength, DISCORD_LIMITS, embedLength, messageEmbedsLength, validateMessageBody } from './limits';

const ok = { allowed_mentions: { parse: [] as never[] } };
const paths = (body: Parameters<typeof validateMessageBody>[0], kind?: 'create' | 'edit') =>
  validateMessageBody(body, kind ? { kind } : {}).map((v) => v.path);

describe('lengths', () => {
  it('counts code points the way Discord does', () => {
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('👨‍👩‍👧')).toBe(5);
    expect(codePointLength('\uD800x')).toBe(2);
  });

  it('embed length sums title, description, fields, footer and author only', () => {
    const e = { title: 'ab', description: 'c😀', url: 'https://x.example/long', fields: [{ name: 'n', value: 'vv' }], footer: { text: 'f' }, author: { name: 'au' } };
    expect(embedLength(e)).toBe(2 + 2 + 1 + 2 + 1 + 2);
    expect(embedLength(e, 'utf16')).toBe(11);
    expect(messageEmbedsLength([e, e])).toBe(20);
  });
});

describe('validateMessageBody', () => {
  it('accepts a body at every limit exactly', () => {
    const fields = Array.from({ length: 25 }, () => ({ name: 'n'.repeat(10), value: 'v'.repeat(10) }));
    const body = {
      ...ok,
      content: 'c'.repeat(2000),
      embeds: [{ title: 't'.repeat(256), description: 'd'.repeat(4096), fields, footer: { text: 'f'.repeat(1000) }, author: { name: 'a'.repeat(148) } }],
    };
    expect(messageEmbedsLength(body.embeds)).toBe(DISCORD_LIMITS.embedTotal);
    expect(validateMessageBody(body)).toEqual([]);
  });

  it('reports each limit that is one over', () => {
    expect(paths({ ...ok, content: 'c'.repeat(2001) })).toEqual(['content']);
    expect(paths({ ...ok, embeds: [{ title: 't'.repeat(257) }] })).toEqual(['embeds[0].title']);
    expect(paths({ ...ok, embeds: [{ description: 'd'.repeat(4097) }] })).toEqual(['embeds[0].description']);
    expect(paths({ ...ok, embeds: Array.from({ length: 11 }, () => ({ title: 'x' })) })).toEqual(['embeds']);
    expect(paths({ ...ok, embeds: [{ fields: Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })) }] })).toEqual(['embeds[0].fields']);
    expect(paths({ ...ok, embeds: [{ fields: [{ name: 'n'.repeat(257), value: 'v'.repeat(1025) }] }] })).toEqual([
      'embeds[0].fields[0].name',
      'embeds[0].fields[0].value',
    ]);
    expect(paths({ ...ok, embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] })).toEqual(['embeds']);
    expect(paths({ ...ok, embeds: [{ image: { url: 'javascript:alert(1)' } }] })).toEqual(['embeds[0].image.url']);
  });

  it('measures in UTF-16 units, the stricter measure', () => {
    expect(paths({ ...ok, embeds: [{ title: '😀'.repeat(129) }] })).toEqual(['embeds[0].title']);
  });

  it('checks buttons and rows', () => {
    const link = { type: 2, style: 5, label: 'View', url: 'https://x.example' } as const;
    expect(paths({ ...ok, components: [{ type: 1, components: [link] }] })).toEqual([]);
    expect(paths({ ...ok, components: Array.from({ length: 6 }, () => ({ type: 1, components: [link] })) } as never)).toEqual(['components']);
    expect(paths({ ...ok, components: [{ type: 1, components: Array.from({ length: 6 }, () => link) }] } as never)).toEqual(['components[0].components']);
    expect(paths({ ...ok, components: [{ type: 1, components: [{ type: 2, style: 1, label: 'l'.repeat(81), custom_id: 'c'.repeat(101) }] }] })).toEqual([
      'components[0].components[0].label',
      'components[0].components[0].custom_id',
    ]);
  });

  it('insists on explicit, non-parsing allowed_mentions', () => {
    expect(paths({ content: 'x' })).toEqual(['allowed_mentions']);
    expect(paths({ content: 'x', allowed_mentions: { parse: ['everyone' as never] } })).toEqual(['allowed_mentions.parse']);
    expect(paths({ content: 'x', allowed_mentions: { parse: [], users: ['1'] } })).toEqual(['allowed_mentions.users']);
    expect(paths({ content: 'x', allowed_mentions: { parse: [], roles: ['@everyone'] } })).toEqual(['allowed_mentions.roles']);
  });

  it('rejects an empty new message but not an empty edit', () => {
    expect(paths({ ...ok })).toEqual(['']);
    expect(paths({ ...ok }, 'edit')).toEqual([]);
  });
});
