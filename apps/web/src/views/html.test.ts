import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, safeUrl } from './html';

describe('html', () => {
  it('escapes every interpolation', () => {
    const evil = `<script>alert("x")</script>' onmouseover='x`;
    const out = html`<p title="${evil}">${evil}</p>`.toString();
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x</p>',
    );
  });

  it('nests templates and arrays without double escaping', () => {
    const items = ['a&b', '<c>'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}</ul>`.toString()).toBe('<ul><li>a&amp;b</li><li>&lt;c&gt;</li></ul>');
  });

  it('passes raw() through and renders nothing for null, undefined and false', () => {
    expect(html`${raw('<b>ok</b>')}${null}${undefined}${false}${0}`.toString()).toBe('<b>ok</b>0');
  });

  it('escapes backticks and ampersands', () => {
    expect(escapeHtml('`&')).toBe('&#96;&amp;');
  });

  it('refuses javascript: URLs', () => {
    expect(safeUrl('javascript:alert(1)')).toBe('#');
    expect(safeUrl('https://example.com/a.png')).toBe('https://example.com/a.png');
    expect(safeUrl('/problem-reports/1')).toBe('/problem-reports/1');
    expect(safeUrl('//evil.example')).toBe('#');
  });
});
