import { describe, expect, it } from 'vitest';
import { DISCORD_LIMITS, embedLength } from '@flipfix/discord';
import { fitPackedEdit } from './batching';

const embed = (title: string, description: string) => ({ title, url: `https://flipfix.test/${title}`, description });
const total = (embeds: readonly Parameters<typeof embedLength>[0][]) => embeds.reduce((n, e) => n + embedLength(e, 'utf16'), 0);

describe('fitPackedEdit', () => {
  it('keeps every record when the edited one grew past 6,000 characters, shortening only the edited one', () => {
    const other = embed('a', 'word '.repeat(590));
    const grown = embed('b', 'text '.repeat(640));
    expect(total([other, grown])).toBeGreaterThan(DISCORD_LIMITS.embedTotal);
    const fitted = fitPackedEdit([
      { embeds: [other], changed: false },
      { embeds: [grown], changed: true },
    ]);
    expect(fitted.map((e) => e.title)).toEqual(['a', 'b']);
    expect(fitted[0]).toEqual(other);
    expect(total(fitted)).toBeLessThanOrEqual(DISCORD_LIMITS.embedTotal);
    expect(fitted[1]!.description!.endsWith('…')).toBe(true);
  });

  it('changes nothing when the message still fits', () => {
    const parts = [
      { embeds: [embed('a', 'short')], changed: false },
      { embeds: [embed('b', 'also short')], changed: true },
    ];
    expect(fitPackedEdit(parts)).toEqual(parts.flatMap((p) => p.embeds));
  });
});
