/**
 * A tiny auto-escaping template tag. Every interpolation is HTML-escaped
 * unless it is already {@link Html} (the result of another `html` template or
 * of {@link raw}), so user text can never become markup by accident.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/** Markup that is known safe; only `html` and {@link raw} create it. */
export class Html {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

/** Marks a string as trusted markup. Never pass user input. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** Values an interpolation accepts; arrays are joined, null/undefined/false render nothing. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | Date | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  if (value instanceof Date) return escapeHtml(value.toISOString());
  return escapeHtml(String(value));
}

/** The template tag: `html\`<p>${userText}</p>\``. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + (strings[i + 1] ?? '');
  }
  return new Html(out);
}

/** Only http(s) URLs are linked or shown as images; anything else becomes `#`. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.toString() : '#';
  } catch {
    return url.startsWith('/') && !url.startsWith('//') ? url : '#';
  }
}
