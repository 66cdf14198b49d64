import { describe, expect, it } from 'vitest';
import {
  escapeMarkdownLinkText,
  httpUrl,
  inlineText,
  neutralizeMentions,
  renderLinks,
  safeUrl,
  sanitizeText,
  truncate,
  ZWSP,
} from './text';
import { randomText, rng } from '../test/random';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const graphemes = (s: string) => [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);

describe('truncate', () => {
  it('returns text that fits unchanged', () => {
    expect(truncate('hello world', 11)).toBe('hello world');
  });

  it('cuts on a word boundary near the end and adds an ellipsis', () => {
    const out = truncate('the quick brown fox jumps over the lazy dog', 20);
    expect(out).toBe('the quick brown fox…');
    expect(out.length).toBeLessThanOrEqual(20);
  });

  it('cuts mid-word when no space is in the last 20%', () => {
    const out = truncate(`${'a'.repeat(50)} ${'b'.repeat(100)}`, 100);
    expect(out).toBe(`${'a'.repeat(50)} ${'b'.repeat(48)}…`);
  });

  it('never splits a ZWJ family, a skin tone or a flag', () => {
    const family = '👨‍👩‍👧‍👦';
    const thumb = '👍🏽';
    const flag = '🇫🇷';
    for (const unit of [family, thumb, flag, 'é', 'e\u0301']) {
      const text = unit.repeat(40);
      for (let max = 1; max < 60; max++) {
        const out = truncate(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).not.toMatch(LONE_SURROGATE);
        const kept = out.endsWith('…') ? out.slice(0, -1) : out;
        for (const g of graphemes(kept)) expect(g).toBe(unit);
      }
    }
  });

  it('moves the cut before a Markdown link instead of through it', () => {
    const text = `See the manual at [the service manual page](https://example.com/manual/eight-ball-deluxe) for more`;
    for (let max = 25; max < text.length; max++) {
      const out = truncate(text, max);
      const open = out.lastIndexOf('[');
      if (open >= 0) expect(out.slice(open)).toMatch(/^\[[^\]]*\]\([^)]*\)/);
      expect(out).not.toMatch(/\]\([^)]*$/);
    }
    expect(truncate(text, 40)).toBe('See the manual at…');
  });

  it('shows the label as text when the whole budget is inside a leading link', () => {
    const out = truncate('[a very long label for a link](https://example.com/x) and more', 20);
    expect(out).not.toContain('](');
    expect(out.startsWith('a very long')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(20);
  });

  it('handles tiny and zero budgets', () => {
    expect(truncate('hello', 0)).toBe('');
    expect(truncate('hello', 1)).toBe('h');
    expect(truncate('hello', 2)).toBe('h…');
    expect(truncate('👍🏽👍🏽', 3)).toBe('…');
  });

  it('stays linear on pathological Markdown', () => {
    const text = '['.repeat(100_000);
    const t0 = performance.now();
    expect(truncate(text, 4000).length).toBeLessThanOrEqual(4000);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('sanitizeText / inlineText', () => {
  it('normalizes line endings and strips control characters except \\n and \\t', () => {
    expect(sanitizeText('a\r\nb\rc\u0000d\u0007e\tf\u001bg\u0085h\u007f')).toBe('a\nb\ncde\tfgh');
  });
  it('replaces lone surrogates', () => {
    expect(sanitizeText('a\uD800b\uDC00c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
  it('collapses whitespace for single-line use', () => {
    expect(inlineText('  Eight\n\n Ball\tDeluxe  ')).toBe('Eight Ball Deluxe');
  });
});

describe('neutralizeMentions', () => {
  it('breaks @everyone, @here and every mention form', () => {
    const out = neutralizeMentions('@everyone @here @Everyone <@123> <@!123> <@&456> <#789>');
    expect(out).not.toMatch(/@(everyone|here)/i);
    expect(out).not.toContain('<@');
    expect(out).toContain(`@${ZWSP}everyone`);
    expect(out).toContain(`<${ZWSP}@&456>`);
    expect(out).toContain('<#789>');
  });
  it('leaves ordinary at-signs alone', () => {
    expect(neutralizeMentions('mail bob@example.com')).toBe('mail bob@example.com');
  });
});

describe('escapeMarkdownLinkText', () => {
  it('escapes brackets and formatting, flattens newlines', () => {
    expect(escapeMarkdownLinkText('a]b[c*d_e\nf')).toBe('a\\]b\\[c\\*d\\_e f');
  });
});

describe('urls', () => {
  it('accepts only http(s) without credentials', () => {
    expect(httpUrl('https://example.com/a b')).toBe('https://example.com/a%20b');
    expect(httpUrl('javascript:alert(1)')).toBeNull();
    expect(httpUrl('ftp://example.com/x')).toBeNull();
    expect(httpUrl('https://user:pw@example.com/')).toBeNull();
    expect(httpUrl('not a url')).toBeNull();
    expect(httpUrl(`https://example.com/${'a'.repeat(3000)}`)).toBeNull();
  });
  it('makes URLs safe inside Markdown link parentheses', () => {
    expect(safeUrl('https://example.com/a_(b)/@everyone')).toBe('https://example.com/a_%28b%29/%40everyone');
  });
});

describe('renderLinks', () => {
  const base = 'https://flipfix.example.org';
  const links = {
    'machine:id:7': { id: 7, label: 'Eight Ball Deluxe', url: `${base}/machines/eight-ball-deluxe` },
    'machine:ebd': { id: 7, label: 'Eight Ball Deluxe', url: `${base}/machines/eight-ball-deluxe` },
    'problem:12': { id: 12, label: 'Problem #12: Ball [stuck] (again)', url: `${base}/problem-reports/12` },
  };
  it('renders stored and authored forms as Markdown links with the display name, labels escaped', () => {
    expect(renderLinks('Fixed [[machine:id:7]] and [[machine:ebd]] today', links)).toBe(
      `Fixed [Eight Ball Deluxe](${base}/machines/eight-ball-deluxe) and [Eight Ball Deluxe](${base}/machines/eight-ball-deluxe) today`,
    );
    expect(renderLinks('[[problem:12]]', links)).toBe(`[Problem #12: Ball \\[stuck\\] \\(again\\)](${base}/problem-reports/12)`);
  });
  it('shows Flipfix\'s *[broken link]* for a missing target, and leaves text that is not markup alone', () => {
    expect(renderLinks('[[log:5]] [[page:id:2]] [[widget:7]] [[problem:abc]]', links)).toBe('*[broken link]* *[broken link]* [[widget:7]] [[problem:abc]]');
  });
  it('renders labels only in plain mode', () => {
    expect(renderLinks('see [[machine:id:7]] and [[log:5]]', links, { plain: true })).toBe('see Eight Ball Deluxe and [broken link]');
  });
  it('a rendered link with an escaped label is never cut in half', () => {
    const text = `${'a '.repeat(40)}${renderLinks('[[problem:12]]', links)} tail`;
    const out = truncate(text, 100);
    expect(out).toBe(`${'a '.repeat(39)}a…`);
  });
});

describe('truncate over random adversarial text', () => {
  it('returns a prefix ending on a grapheme boundary, outside any link, within max', () => {
    const seg = new Intl.Segmenter('en', { granularity: 'grapheme' });
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const text = sanitizeText(randomText(r, 20_000));
      const max = 1 + Math.floor(r() * 5000);
      const out = truncate(text, max);
      expect(out.length, `seed ${seed}`).toBeLessThanOrEqual(max);
      expect(LONE_SURROGATE.test(out), `seed ${seed}`).toBe(false);
      if (out === text) continue;
      const kept = out.endsWith('…') ? out.slice(0, -1) : out;
      if (!text.startsWith(kept)) {
        // Only when a leading link was replaced by its label.
        expect(text.startsWith('['), `seed ${seed}`).toBe(true);
        continue;
      }
      const boundary = kept.length === text.length || seg.segment(text).containing(kept.length)?.index === kept.length;
      expect(boundary, `seed ${seed}: cut at ${kept.length}`).toBe(true);
      for (const m of text.matchAll(/\[[^[\]\n]{0,1000}\]\([^()\s]{1,2048}\)/g)) {
        const inside = m.index < kept.length && kept.length < m.index + m[0].length;
        expect(inside, `seed ${seed}: cut inside ${m[0]}`).toBe(false);
      }
    }
  });
});
