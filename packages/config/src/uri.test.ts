import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHttpUri } from './uri';

/** RFC 3986 `URI` for http(s) after the authority, as a character check: what Discord's `format: uri` accepts. */
const RFC3986_TAIL = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

describe('toHttpUri', () => {
  it('percent-encodes what WHATWG leaves and RFC 3986 refuses', () => {
    expect(toHttpUri('https://img.example.org/100%.jpg')).toBe('https://img.example.org/100%25.jpg');
    expect(toHttpUri('https://img.example.org/a|b^c`d[1].jpg')).toBe('https://img.example.org/a%7Cb%5Ec%60d%5B1%5D.jpg');
    expect(toHttpUri('https://img.example.org/x?q=a\\b|c#f#g')).toBe('https://img.example.org/x?q=a%5Cb%7Cc#f%23g');
    expect(toHttpUri('https://café.example/é')).toBe('https://xn--caf-dma.example/%C3%A9');
  });

  it('keeps valid URLs and their escapes as they are', () => {
    for (const url of ['https://img.example.org/a%20b.jpg?x=1&y=%7C#frag', 'http://127.0.0.1:4100/api', 'https://[::1]:8080/x']) {
      expect(toHttpUri(url)).toBe(url);
    }
  });

  it('refuses what is not an http(s) URL, carries credentials or is too long', () => {
    for (const bad of ['', 'not a url', 'javascript:alert(1)', 'ftp://x.org/a', 'https://user:pw@x.org/', null, undefined]) {
      expect(toHttpUri(bad), String(bad)).toBeNull();
    }
    expect(toHttpUri(`https://x.org/${'a'.repeat(30)}`, { maxLength: 20 })).toBeNull();
    // Encoding can make a URL longer: the limit applies to the result.
    expect(toHttpUri('https://x.org/||||', { maxLength: 18 })).toBeNull();
  });

  it('always yields an RFC 3986 URI for any input that parses', () => {
    const char = fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~é€😀\t');
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 24 }), (tail) => {
        const uri = toHttpUri(`https://example.org/${tail}`);
        if (uri !== null) expect(uri.slice('https://example.org'.length)).toMatch(RFC3986_TAIL);
      }),
      { numRuns: 2000 },
    );
  });
});
