/**
 * Text hygiene for anything a user typed: control characters, mentions,
 * Markdown, Flipfix's internal link markup, and truncation that never cuts a
 * character, a grapheme cluster or a Markdown link in half.
 *
 * Lengths here are UTF-16 code units (`string.length`), which is never less
 * than Discord's code point count, so a result fits under both measures.
 */
import { toHttpUri } from '@flipfix/config';
import { type LinkTargets, renderLinksWith } from '@flipfix/events';

/** Zero-width space: breaks mention syntax without changing what a reader sees. */
export const ZWSP = '\u200b';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0 controls except \t and \n, DEL, C1 controls; \r is handled before this runs.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * Normalizes line endings (`\r\n` and lone `\r` become `\n`), removes control
 * characters except `\n` and `\t`, and replaces lone surrogates (invalid
 * UTF-16, which Discord rejects) with U+FFFD.
 */
export function sanitizeText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** {@link sanitizeText}, then every run of whitespace (newlines too) as one space, trimmed: for titles, names, labels. */
export function inlineText(text: string): string {
  return sanitizeText(text).replace(/\s+/g, ' ').trim();
}

/**
 * Makes user text unable to ping anyone, even if `allowed_mentions` were
 * misconfigured: `@everyone` / `@here` get a zero-width space after the `@`,
 * and `<@id>`, `<@!id>`, `<@&id>` lose their mention syntax (`<` ZWSP `@`).
 */
export function neutralizeMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, `@${ZWSP}$1`).replace(/<@/g, `<${ZWSP}@`);
}

/**
 * Escapes text for use as the label of a Markdown link `[label](url)`:
 * brackets, backslashes and inline formatting characters, with newlines
 * flattened (a link label cannot span lines).
 */
export function escapeMarkdownLinkText(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/[\\[\]()*_~`|<>]/g, '\\$&');
}

/**
 * `url` as an absolute http(s) URL that Discord's API accepts (RFC 3986:
 * characters the WHATWG parser leaves, such as `|` or a bare `%`, are
 * percent-encoded by `toHttpUri`), or null when it is not one, carries
 * credentials, or is longer than `maxLength`.
 */
export function httpUrl(url: string | null | undefined, maxLength = 2048): string | null {
  return toHttpUri(url, { maxLength });
}

/**
 * {@link httpUrl}, made safe to put inside `(...)` of a Markdown link:
 * characters that would end the link early or form a mention are
 * percent-encoded.
 */
export function safeUrl(url: string | null | undefined, maxLength = 2048): string | null {
  const href = httpUrl(url, Number.POSITIVE_INFINITY);
  if (href === null) return null;
  const encoded = href.replace(/[()<>@\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return encoded.length <= maxLength ? encoded : null;
}

/** Markdown link `[label](url)`, labels with escaped characters too: matched with bounded parts so a scan over 100 KB stays linear. */
const MD_LINK = /\[(?:\\.|[^[\]\\\n]){0,1000}\]\([^()\s]{1,2048}\)/g;

/** Where a Markdown link sits in a text. */
export interface Span {
  start: number;
  end: number;
}

/** The Markdown links `[label](url)` in `text`. */
export function linkSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(MD_LINK)) spans.push({ start: m.index, end: m.index + m[0].length });
  return spans;
}

let segmenter: Intl.Segmenter | undefined;
function graphemes(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return segmenter;
}

/** Options for {@link truncate}. */
export interface TruncateOptions {
  /** Appended when text was cut. Default `…`. */
  ellipsis?: string;
  /** How far back (fraction of `max`) to look for a word boundary. Default 0.2. */
  wordWindow?: number;
}

/**
 * `text` if it fits in `max` UTF-16 units, else a prefix plus the ellipsis
 * that fits. The cut falls on a word boundary when there is one within the
 * last `wordWindow` of the budget, never inside a grapheme cluster (so
 * emoji with ZWJ, skin tones and flags stay whole, and surrogate pairs are
 * never split), and never inside a Markdown link: it moves before the link.
 */
export function truncate(text: string, max: number, options: TruncateOptions = {}): string {
  const ellipsis = options.ellipsis ?? '…';
  const window = options.wordWindow ?? 0.2;
  if (max <= 0) return '';
  if (text.length <= max) return text;
  const withEllipsis = ellipsis.length < max;
  const budget = withEllipsis ? max - ellipsis.length : max;

  // Grapheme boundaries at or below `budget` depend only on the text before them and the code
  // point right after, so segmenting a short prefix is exact; `containing()` finds the start of
  // the cluster around a position without walking every cluster (which is slow in V8).
  const head = text.slice(0, budget + 8);
  const segments = graphemes().segment(head);
  const boundaryAtOrBefore = (i: number): number => (i >= head.length ? head.length : (segments.containing(i)?.index ?? 0));

  let cut = boundaryAtOrBefore(budget);

  const floor = Math.max(1, Math.floor(budget * (1 - window)));
  for (let j = cut; j >= floor; j--) {
    if (/\s/.test(text[j]!) && boundaryAtOrBefore(j) === j) {
      cut = j;
      break;
    }
  }

  // A link that starts before the cut is at most ~3 KB long, so a bounded slice holds it whole.
  const inside = linkSpans(text.slice(0, cut + 3100)).find((s) => s.start < cut && cut < s.end);
  if (inside) {
    if (inside.start === 0) {
      // Cutting before the link would leave nothing: show its label as plain text instead.
      const label = text.slice(1, text.indexOf('](', inside.start));
      return truncate(label + text.slice(inside.end), max, options);
    }
    cut = boundaryAtOrBefore(inside.start);
  }

  // Drop trailing whitespace a whole cluster at a time, so trimming cannot split one either.
  while (cut > 0 && /\s/.test(text[cut - 1]!)) {
    const b = boundaryAtOrBefore(cut - 1);
    if (!/^\s+$/.test(text.slice(b, cut))) break;
    cut = b;
  }
  const kept = text.slice(0, cut);
  return withEllipsis ? kept + ellipsis : kept;
}

/** What a link to a missing record shows, as Flipfix writes it (Markdown, and plain text). */
export const BROKEN_LINK = '*[broken link]*';
export const BROKEN_LINK_PLAIN = '[broken link]';

/**
 * Renders Flipfix's record links (`[[machine:id:7]]`, `[[machine:slug]]`,
 * `[[problem:11]]`...; see `@flipfix/events` links) as Markdown links to the
 * record's page labelled with its display name, from targets resolved in bulk
 * beforehand. A link to a missing record becomes {@link BROKEN_LINK}; raw
 * markup never reaches Discord. With `plain: true`, links become their labels
 * only (for previews that are cut to a few words).
 */
export function renderLinks(text: string, links: LinkTargets, options: { plain?: boolean } = {}): string {
  return renderLinksWith(text, links, (target) => {
    if (target === undefined) return options.plain === true ? BROKEN_LINK_PLAIN : BROKEN_LINK;
    const label = inlineText(target.label);
    if (options.plain === true) return label;
    const url = safeUrl(target.url);
    return url === null ? escapeMarkdownLinkText(label) : `[${escapeMarkdownLinkText(label)}](${url})`;
  });
}
