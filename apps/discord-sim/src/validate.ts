/**
 * Validation of message bodies against Discord's documented limits, answering
 * with Discord's nested error tree.
 *
 * Lengths are counted in Unicode code points, as Discord counts them for
 * content and embed limits, so an emoji counts as one character (not two
 * UTF-16 units).
 */
import { ApiErrors, FormErrors } from './errors';

/** Discord's documented limits (see the project's discord-api-spec README). */
export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  nonce: 25,
  allowedMentionIds: 100,
  webhookUsername: 80,
  threadName: 100,
  color: 0xffffff,
} as const;

/** Counts Unicode code points without allocating (a surrogate pair is one character). */
export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

type Path = (string | number)[];
type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const maxLen = (n: number) => `Must be ${n} or fewer in length.`;

/** A message's validated, normalised parts, as the route stores them. */
export interface MessageInput {
  content?: string;
  embeds?: Json[];
  components?: Json[];
  allowed_mentions?: AllowedMentions;
  nonce?: string | number;
  enforce_nonce?: boolean;
  flags?: number;
  tts?: boolean;
  attachments?: unknown[];
  sticker_ids?: string[];
  message_reference?: Json;
  /** Webhook executions only. */
  username?: string;
  avatar_url?: string;
  thread_name?: string;
}

/** Discord's allowed_mentions object. */
export interface AllowedMentions {
  parse?: ('everyone' | 'users' | 'roles')[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

class Checker {
  readonly errors = new FormErrors();

  string(value: unknown, path: Path, max: number, opts: { min?: number; required?: boolean } = {}): string | undefined {
    if (value === undefined || value === null) {
      if (opts.required) this.errors.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.errors.add(path, 'BASE_TYPE_STRING', `Could not interpret "${safeRepr(value)}" as string.`);
      return undefined;
    }
    const len = codePointLength(value);
    const min = opts.min ?? 0;
    if (opts.required && len === 0 && min === 0) {
      this.errors.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    } else if (min > 0 && (len < min || len > max)) {
      this.errors.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
    } else if (len > max) {
      this.errors.add(path, 'BASE_TYPE_MAX_LENGTH', maxLen(max));
    }
    return value;
  }

  url(value: unknown, path: Path, opts: { attachment?: boolean; required?: boolean } = {}): void {
    const s = this.string(value, path, 2048, { required: opts.required ?? false });
    if (s === undefined) return;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
    if (scheme === undefined) {
      this.errors.add(path, 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
      return;
    }
    const allowed = opts.attachment ? ['http', 'https', 'attachment'] : ['http', 'https'];
    if (!allowed.includes(scheme)) {
      const list = allowed.map((a) => `'${a}'`).join(', ');
      this.errors.add(path, 'URL_TYPE_INVALID_SCHEME', `Scheme "${scheme}" is not supported. Scheme must be one of (${list}).`);
      return;
    }
    if (scheme !== 'attachment' && !URL.canParse(s)) {
      this.errors.add(path, 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
    }
  }

  int(value: unknown, path: Path, min: number, max: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.errors.add(path, 'NUMBER_TYPE_COERCE', `Value "${safeRepr(value)}" is not int.`);
    } else if (value < min) {
      this.errors.add(path, 'NUMBER_TYPE_MIN', `int value should be greater than or equal to ${min}.`);
    } else if (value > max) {
      this.errors.add(path, 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${max}.`);
    }
  }

  array(value: unknown, path: Path, max: number): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.errors.add(path, 'BASE_TYPE_ARRAY', `Could not interpret "${safeRepr(value)}" as list.`);
      return undefined;
    }
    if (value.length > max) this.errors.add(path, 'BASE_TYPE_MAX_LENGTH', maxLen(max));
    return value;
  }

  object(value: unknown, path: Path): Json | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) {
      this.errors.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return undefined;
    }
    return value;
  }
}

function safeRepr(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function checkEmbeds(c: Checker, value: unknown): Json[] | undefined {
  const embeds = c.array(value, ['embeds'], LIMITS.embeds);
  if (embeds === undefined) return undefined;
  let total = 0;
  const out: Json[] = [];
  embeds.forEach((raw, i) => {
    const embed = c.object(raw, ['embeds', i]);
    if (embed === undefined) return;
    const p = (...rest: Path): Path => ['embeds', i, ...rest];
    const count = (s: string | undefined) => {
      if (s !== undefined) total += codePointLength(s);
    };
    count(c.string(embed.title, p('title'), LIMITS.title));
    count(c.string(embed.description, p('description'), LIMITS.description));
    c.url(embed.url, p('url'));
    c.int(embed.color, p('color'), 0, LIMITS.color);
    if (embed.timestamp !== undefined && embed.timestamp !== null) {
      if (typeof embed.timestamp !== 'string' || Number.isNaN(Date.parse(embed.timestamp))) {
        c.errors.add(p('timestamp'), 'DATE_TYPE_PARSE', `Could not parse ${safeRepr(embed.timestamp)}. Should be ISO8601.`);
      }
    }
    const footer = c.object(embed.footer, p('footer'));
    if (footer) {
      count(c.string(footer.text, p('footer', 'text'), LIMITS.footerText, { required: true }));
      c.url(footer.icon_url, p('footer', 'icon_url'), { attachment: true });
    }
    const author = c.object(embed.author, p('author'));
    if (author) {
      count(c.string(author.name, p('author', 'name'), LIMITS.authorName, { required: true }));
      c.url(author.url, p('author', 'url'));
      c.url(author.icon_url, p('author', 'icon_url'), { attachment: true });
    }
    for (const key of ['image', 'thumbnail'] as const) {
      const media = c.object(embed[key], p(key));
      if (media) c.url(media.url, p(key, 'url'), { attachment: true, required: true });
    }
    const fields = c.array(embed.fields, p('fields'), LIMITS.fields);
    fields?.forEach((rawField, j) => {
      const field = c.object(rawField, p('fields', j));
      if (!field) return;
      count(c.string(field.name, p('fields', j, 'name'), LIMITS.fieldName, { required: true }));
      count(c.string(field.value, p('fields', j, 'value'), LIMITS.fieldValue, { required: true }));
    });
    out.push({ type: 'rich', ...embed });
  });
  if (total > LIMITS.embedTotal) {
    c.errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${LIMITS.embedTotal}`);
  }
  return out;
}

function checkComponents(c: Checker, value: unknown): Json[] | undefined {
  const rows = c.array(value, ['components'], LIMITS.actionRows);
  if (rows === undefined) return undefined;
  const seen = new Set<string>();
  rows.forEach((rawRow, i) => {
    const row = c.object(rawRow, ['components', i]);
    if (!row) return;
    if (row.type !== 1) {
      c.errors.add(['components', i, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
      return;
    }
    const children = c.array(row.components, ['components', i, 'components'], LIMITS.buttonsPerRow);
    if (children === undefined) {
      c.errors.add(['components', i, 'components'], 'BASE_TYPE_REQUIRED', 'This field is required');
      return;
    }
    if (children.length === 0) {
      c.errors.add(['components', i, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    }
    children.forEach((rawChild, j) => {
      const path: Path = ['components', i, 'components', j];
      const child = c.object(rawChild, path);
      if (!child) return;
      if (child.type !== 2) {
        // Select menus take a whole row; the project only sends buttons, so only their custom_id is checked.
        if (typeof child.type === 'number' && child.type >= 3 && child.type <= 8) {
          c.string(child.custom_id, [...path, 'custom_id'], LIMITS.customId, { required: true, min: 1 });
          if (children.length > 1) c.errors.add(path, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
          return;
        }
        c.errors.add([...path, 'type'], 'UNION_TYPE_CHOICES', 'Value of field "type" must be one of (2, 3, 4, 5, 6, 7, 8).');
        return;
      }
      c.int(child.style, [...path, 'style'], 1, 6);
      if (child.style === undefined) c.errors.add([...path, 'style'], 'BASE_TYPE_REQUIRED', 'This field is required');
      c.string(child.label, [...path, 'label'], LIMITS.buttonLabel);
      if ((child.label === undefined || child.label === '') && child.emoji === undefined && child.style !== 6) {
        c.errors.add(path, 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', 'A label or emoji is required');
      }
      if (child.style === 5) {
        if (child.custom_id !== undefined) {
          c.errors.add([...path, 'custom_id'], 'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED', 'A custom id and url cannot both be specified');
        }
        c.url(child.url, [...path, 'url'], { required: true });
      } else if (typeof child.style === 'number' && child.style !== 6) {
        if (child.url !== undefined) {
          c.errors.add([...path, 'url'], 'BUTTON_COMPONENT_URL_NOT_ALLOWED', 'A url cannot be specified for this button style');
        }
        const id = c.string(child.custom_id, [...path, 'custom_id'], LIMITS.customId, { required: true, min: 1 });
        if (id !== undefined) {
          if (seen.has(id)) c.errors.add([...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
          seen.add(id);
        }
      }
    });
  });
  return rows as Json[];
}

function checkAllowedMentions(c: Checker, value: unknown): AllowedMentions | undefined {
  const am = c.object(value, ['allowed_mentions']);
  if (!am) return undefined;
  const out: AllowedMentions = {};
  const parse = c.array(am.parse, ['allowed_mentions', 'parse'], 3);
  if (parse) {
    out.parse = [];
    parse.forEach((p, i) => {
      if (p === 'everyone' || p === 'users' || p === 'roles') out.parse!.push(p);
      else c.errors.add(['allowed_mentions', 'parse', i], 'ENUM_TYPE_COERCE', `Value "${safeRepr(p)}" is not a valid enum value.`);
    });
  }
  for (const key of ['users', 'roles'] as const) {
    const ids = c.array(am[key], ['allowed_mentions', key], LIMITS.allowedMentionIds);
    if (ids) {
      out[key] = ids.map(String);
      if (out.parse?.includes(key)) {
        c.errors.add(
          ['allowed_mentions'],
          'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
          `parse:["${key}"] and ${key}: [ids...] are mutually exclusive.`,
        );
      }
    }
  }
  if (typeof am.replied_user === 'boolean') out.replied_user = am.replied_user;
  return out;
}

/** Which route the body is for: the webhook variants accept a few more fields. */
export type BodyKind = 'create' | 'edit' | 'webhook' | 'webhookEdit' | 'interaction';

/**
 * Validates a message body and returns its parts, or throws Discord's
 * 50035 Invalid Form Body error listing every failing field.
 */
export function validateMessageBody(body: unknown, kind: BodyKind): MessageInput {
  if (!isObject(body)) throw ApiErrors.emptyMessage();
  const c = new Checker();
  const out: MessageInput = {};
  if (body.content !== undefined && body.content !== null) {
    const content = c.string(body.content, ['content'], LIMITS.content);
    if (content !== undefined) out.content = content;
  }
  const embeds = checkEmbeds(c, body.embeds);
  if (embeds) out.embeds = embeds;
  const components = checkComponents(c, body.components);
  if (components) out.components = components;
  const am = checkAllowedMentions(c, body.allowed_mentions);
  if (am) out.allowed_mentions = am;
  if (body.nonce !== undefined && body.nonce !== null && kind === 'create') {
    if (typeof body.nonce === 'string') {
      if (codePointLength(body.nonce) > LIMITS.nonce) c.errors.add(['nonce'], 'BASE_TYPE_MAX_LENGTH', maxLen(LIMITS.nonce));
      else out.nonce = body.nonce;
    } else if (typeof body.nonce === 'number' && Number.isInteger(body.nonce)) {
      out.nonce = body.nonce;
    } else {
      c.errors.add(['nonce'], 'BASE_TYPE_STRING', `Could not interpret "${safeRepr(body.nonce)}" as string.`);
    }
  }
  if (body.enforce_nonce !== undefined) out.enforce_nonce = body.enforce_nonce === true;
  if (body.flags !== undefined && body.flags !== null) {
    c.int(body.flags, ['flags'], 0, 2 ** 31 - 1);
    if (typeof body.flags === 'number') out.flags = body.flags;
  }
  if (typeof body.tts === 'boolean') out.tts = body.tts;
  if (Array.isArray(body.attachments)) out.attachments = body.attachments;
  if (Array.isArray(body.sticker_ids)) out.sticker_ids = body.sticker_ids.map(String);
  if (isObject(body.message_reference)) out.message_reference = body.message_reference;
  if (kind === 'webhook') {
    const username = c.string(body.username, ['username'], LIMITS.webhookUsername, { min: 1 });
    if (username !== undefined) out.username = username;
    c.url(body.avatar_url, ['avatar_url']);
    if (typeof body.avatar_url === 'string') out.avatar_url = body.avatar_url;
    const threadName = c.string(body.thread_name, ['thread_name'], LIMITS.threadName, { min: 1 });
    if (threadName !== undefined) out.thread_name = threadName;
  }
  c.errors.throwIfAny();
  return out;
}

/** True when a message made of these parts would be empty, which Discord refuses (50006). */
export function isEmptyMessage(m: {
  content?: string | undefined;
  embeds?: unknown[] | undefined;
  components?: unknown[] | undefined;
  sticker_ids?: unknown[] | undefined;
  attachments?: unknown[] | undefined;
}): boolean {
  return (
    (m.content === undefined || m.content.trim() === '') &&
    (m.embeds?.length ?? 0) === 0 &&
    (m.components?.length ?? 0) === 0 &&
    (m.sticker_ids?.length ?? 0) === 0 &&
    (m.attachments?.length ?? 0) === 0
  );
}

/** Validates the start-thread body: name 1..100, auto_archive_duration one of Discord's four values. */
export function validateThreadBody(body: unknown): { name: string; auto_archive_duration: number } {
  const c = new Checker();
  const b = isObject(body) ? body : {};
  const name = c.string(b.name, ['name'], LIMITS.threadName, { required: true, min: 1 });
  let duration = 4320;
  if (b.auto_archive_duration !== undefined && b.auto_archive_duration !== null) {
    if (![60, 1440, 4320, 10080].includes(b.auto_archive_duration as number)) {
      c.errors.add(['auto_archive_duration'], 'BASE_TYPE_CHOICES', 'Value must be one of {60, 1440, 4320, 10080}.');
    } else {
      duration = b.auto_archive_duration as number;
    }
  }
  c.errors.throwIfAny();
  return { name: name ?? '', auto_archive_duration: duration };
}
