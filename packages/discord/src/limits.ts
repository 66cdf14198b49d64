/**
 * Discord's documented message limits, and the checks every outgoing body
 * passes before it is sent.
 *
 * How lengths are measured: Discord counts characters (Unicode code points),
 * JavaScript's `string.length` counts UTF-16 code units. A code point is one or
 * two code units, so the UTF-16 length is never smaller than the code point
 * count. Everything in this package budgets in UTF-16 units, which keeps a
 * string within a limit under both measures; {@link embedLength} reports
 * Discord's own measure (code points) for display and metrics.
 */
import type { APIEmbed, RESTPatchAPIChannelMessageJSONBody, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';

/** The documented limits (https://discord.com/developers/docs/resources/message). */
export const DISCORD_LIMITS = {
  /** `content` characters. */
  content: 2000,
  /** Embeds per message. */
  embeds: 10,
  /** Characters over all embeds of one message (title, description, fields, footer, author). */
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  customId: 100,
  buttonLabel: 80,
  nonce: 25,
  actionRows: 5,
  buttonsPerRow: 5,
  /** Embed `url` / image URLs (OpenAPI `maxLength`). */
  embedUrl: 2048,
  /** Link button `url` (OpenAPI `maxLength`). */
  buttonUrl: 512,
  threadName: 100,
} as const;

/** How a length is counted: Discord's measure, or JavaScript's. */
export type LengthMeasure = 'codePoints' | 'utf16';

/** Number of Unicode code points in `s` (what Discord counts). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Length of `s` under `measure`; a missing string counts 0. */
export function measure(s: string | null | undefined, how: LengthMeasure = 'codePoints'): number {
  if (s == null) return 0;
  return how === 'utf16' ? s.length : codePointLength(s);
}

/**
 * The characters one embed contributes to the message's 6000 budget: title,
 * description, field names and values, footer text and author name.
 */
export function embedLength(embed: APIEmbed, how: LengthMeasure = 'codePoints'): number {
  let n = measure(embed.title, how) + measure(embed.description, how);
  for (const f of embed.fields ?? []) n += measure(f.name, how) + measure(f.value, how);
  n += measure(embed.footer?.text, how) + measure(embed.author?.name, how);
  return n;
}

/** Sum of {@link embedLength} over a message's embeds. */
export function messageEmbedsLength(embeds: readonly APIEmbed[] | undefined, how: LengthMeasure = 'codePoints'): number {
  let n = 0;
  for (const e of embeds ?? []) n += embedLength(e, how);
  return n;
}

/** One broken rule in a message body. */
export interface LimitViolation {
  /** JSON path of the offending value, e.g. `embeds[0].description`. */
  path: string;
  message: string;
}

const SNOWFLAKE = /^\d{1,20}$/;

function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every documented limit a message body breaks, plus the project's own
 * rules (`allowed_mentions` always explicit, no `parse` of everyone/users/
 * roles). Lengths are checked in UTF-16 units, the stricter measure, so an
 * empty list means the body fits under either. Used by tests and as the last
 * check before a body leaves the process.
 */
export function validateMessageBody(
  body: RESTPostAPIChannelMessageJSONBody | RESTPatchAPIChannelMessageJSONBody,
  options: { kind?: 'create' | 'edit' } = {},
): LimitViolation[] {
  const out: LimitViolation[] = [];
  const L = DISCORD_LIMITS;
  const tooLong = (path: string, value: string | null | undefined, max: number) => {
    const n = measure(value, 'utf16');
    if (n > max) out.push({ path, message: `${n} characters, limit ${max}` });
  };

  tooLong('content', body.content, L.content);
  if ('nonce' in body && body.nonce !== undefined) {
    if (typeof body.nonce === 'string') tooLong('nonce', body.nonce, L.nonce);
  }

  const embeds = body.embeds ?? [];
  if (embeds.length > L.embeds) out.push({ path: 'embeds', message: `${embeds.length} embeds, limit ${L.embeds}` });
  embeds.forEach((e, i) => {
    const p = `embeds[${i}]`;
    tooLong(`${p}.title`, e.title, L.title);
    tooLong(`${p}.description`, e.description, L.description);
    tooLong(`${p}.footer.text`, e.footer?.text, L.footerText);
    tooLong(`${p}.author.name`, e.author?.name, L.authorName);
    if (e.url !== undefined) {
      tooLong(`${p}.url`, e.url, L.embedUrl);
      if (!isHttpUrl(e.url)) out.push({ path: `${p}.url`, message: 'not an http(s) URL' });
    }
    for (const [key, url] of [
      ['image.url', e.image?.url],
      ['thumbnail.url', e.thumbnail?.url],
    ] as const) {
      if (url === undefined) continue;
      tooLong(`${p}.${key}`, url, L.embedUrl);
      if (!isHttpUrl(url)) out.push({ path: `${p}.${key}`, message: 'not an http(s) URL' });
    }
    if (e.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)) {
      out.push({ path: `${p}.color`, message: 'not a 24-bit colour' });
    }
    const fields = e.fields ?? [];
    if (fields.length > L.fields) out.push({ path: `${p}.fields`, message: `${fields.length} fields, limit ${L.fields}` });
    fields.forEach((f, j) => {
      tooLong(`${p}.fields[${j}].name`, f.name, L.fieldName);
      tooLong(`${p}.fields[${j}].value`, f.value, L.fieldValue);
      if (f.name.trim() === '') out.push({ path: `${p}.fields[${j}].name`, message: 'empty' });
      if (f.value.trim() === '') out.push({ path: `${p}.fields[${j}].value`, message: 'empty' });
    });
  });
  const total = messageEmbedsLength(embeds, 'utf16');
  if (total > L.embedTotal) out.push({ path: 'embeds', message: `${total} characters over all embeds, limit ${L.embedTotal}` });

  const rows = body.components ?? [];
  if (rows.length > L.actionRows) out.push({ path: 'components', message: `${rows.length} rows, limit ${L.actionRows}` });
  rows.forEach((row, i) => {
    const p = `components[${i}]`;
    if (row.type !== 1) {
      out.push({ path: p, message: 'only action rows are sent' });
      return;
    }
    if (row.components.length === 0 || row.components.length > L.buttonsPerRow) {
      out.push({ path: `${p}.components`, message: `${row.components.length} buttons, allowed 1-${L.buttonsPerRow}` });
    }
    row.components.forEach((c, j) => {
      const q = `${p}.components[${j}]`;
      if (c.type !== 2) {
        out.push({ path: q, message: 'only buttons are sent' });
        return;
      }
      if ('label' in c) tooLong(`${q}.label`, c.label, L.buttonLabel);
      if (c.style === 5) {
        if (!isHttpUrl(c.url)) out.push({ path: `${q}.url`, message: 'link button needs an http(s) URL' });
        tooLong(`${q}.url`, c.url, L.buttonUrl);
      } else if (c.style !== 6) {
        if (c.custom_id.length < 1) out.push({ path: `${q}.custom_id`, message: 'empty' });
        tooLong(`${q}.custom_id`, c.custom_id, L.customId);
      }
    });
  });

  const am = body.allowed_mentions;
  if (am == null) {
    out.push({ path: 'allowed_mentions', message: 'must be set explicitly' });
  } else {
    if (am.parse === undefined || am.parse.length > 0) {
      out.push({ path: 'allowed_mentions.parse', message: 'must be [] (user text never pings)' });
    }
    if ((am.users?.length ?? 0) > 0) out.push({ path: 'allowed_mentions.users', message: 'no user is ever pinged' });
    for (const r of am.roles ?? []) {
      if (!SNOWFLAKE.test(r)) out.push({ path: 'allowed_mentions.roles', message: `not a snowflake: ${r}` });
    }
  }

  const empty = (body.content ?? '') === '' && embeds.length === 0 && rows.length === 0;
  // An edit may legitimately leave everything else unchanged; a new message may not be empty.
  if ((options.kind ?? 'create') === 'create' && empty) {
    out.push({ path: '', message: 'a message needs content, embeds or components' });
  }
  return out;
}
