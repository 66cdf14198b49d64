/**
 * URLs that Discord accepts. Discord's API schema checks link and image URLs
 * against RFC 3986 (`format: uri`), which is stricter than the WHATWG URL
 * parser browsers and Node use: WHATWG leaves `|`, `^`, `` ` ``, `[`, `]`,
 * `\` (in a query) and a `%` not followed by two hex digits in place, and
 * Discord then refuses the whole message with a 400. So every URL that may
 * reach Discord goes through {@link toHttpUri} once, at input (refused with a
 * 400 when it cannot be made valid) and again when a post is formatted (for
 * rows written by other writers), which percent-encodes what RFC 3986 does
 * not allow. Percent-encoding these characters is what browsers send on the
 * wire anyway, so the URL still names the same resource.
 */

/** Characters RFC 3986 allows after the authority: unreserved, sub-delims, `:`, `@`, `/`, `?`, `%` (as an escape). */
const NOT_ALLOWED = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/gu;

function percentEncode(char: string): string {
  let out = '';
  for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Path, query and fragment of a parsed URL, made RFC 3986 valid (a second `#` is data, so it is encoded too). */
function encodeTail(tail: string): string {
  const hash = tail.indexOf('#');
  const beforeFragment = hash < 0 ? tail : tail.slice(0, hash);
  const fragment = hash < 0 ? null : tail.slice(hash + 1);
  const encoded = beforeFragment.replace(NOT_ALLOWED, percentEncode);
  return fragment === null ? encoded : `${encoded}#${fragment.replace(NOT_ALLOWED, percentEncode)}`;
}

/** Options for {@link toHttpUri}. */
export interface HttpUriOptions {
  /** Longest result accepted. Default 2048 (Discord's embed URL limit). */
  maxLength?: number;
}

/**
 * `input` as an absolute http(s) URL that is valid under RFC 3986, or null
 * when it is not a URL, is not http(s), carries credentials or is longer than
 * `maxLength` once encoded. Already valid URLs come back as the WHATWG
 * parser normalizes them (lower-case scheme and host, punycode, `/` path).
 */
export function toHttpUri(input: string | null | undefined, options: HttpUriOptions = {}): string | null {
  if (typeof input !== 'string') return null;
  let parsed: URL;
  try {
    parsed = new URL(input.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  const origin = `${parsed.protocol}//${parsed.host}`;
  const uri = origin + encodeTail(parsed.href.slice(origin.length));
  return uri.length <= (options.maxLength ?? 2048) ? uri : null;
}
