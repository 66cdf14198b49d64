/**
 * Turns a record (a {@link PostSubject}) into the Discord message that
 * announces it. Pure: same input, same body. Layout follows Flipfix's legacy
 * posts (emoji + machine title linking to the record, colour per kind, body,
 * 📎 linked record, "— Name" attribution, up to 4 photos as a gallery), then
 * adds status fields, a link button and, for the bot, action buttons.
 *
 * Every body holds every Discord limit for any input, and user text can
 * never ping: `allowed_mentions` is always explicit and mention syntax in
 * user text is broken up as well.
 */
import type { EventType, MachineRef, PartRequestStatus, PostSubject, Priority } from '@flipfix/events';
import { PROBLEM_TYPE_LABELS } from '@flipfix/events';
import {
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
  ButtonStyle,
  ComponentType,
  type RESTPatchAPIChannelMessageJSONBody,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import { type CustomIdAction, encodeCustomId } from './custom-id';
import { DISCORD_LIMITS } from './limits';
import { escapeMarkdownLinkText, httpUrl, inlineText, linkSpans, neutralizeMentions, renderLinks, safeUrl, sanitizeText, truncate } from './text';

/** Embed colours (decimal, as Discord takes them). */
export const COLORS = {
  /** Open problem report (Flipfix's red). */
  problemReport: 15158332,
  /** Closed problem report. */
  resolved: 3066993,
  /** Log entries, part requests, updates, digests (Flipfix's blue). */
  info: 3447003,
  /** Test posts (Flipfix's purple). */
  test: 7506394,
} as const;

/** Title emoji per kind of record. */
export const KIND_EMOJI = {
  problem_report: '⚠️',
  log_entry: '🗒️',
  part_request: '📦',
  part_request_update: '💬',
} as const satisfies Record<PostSubject['kind'], string>;

/** How a post is sent; decides which buttons it may carry. */
export type DeliveryMode = 'bot' | 'webhook';

/** Options for {@link formatPost}. */
export interface FormatOptions {
  /** Absolute base URL of the Flipfix site, for internal links. */
  baseUrl: string;
  /** Add the button row (bot mode only). Default true. */
  buttons?: boolean;
  /**
   * Action buttons (Claim, Close, Reopen, Mark ordered/received) beside the
   * link button. Default true; off for a source whose records are changed
   * elsewhere (no interactions endpoint serves them).
   */
  actions?: boolean;
  /** Role pinged by problem reports with priority `unplayable`; nothing else pings. */
  roleMention?: { roleId: string } | null;
  /**
   * `bot` (default): link button plus action buttons. `webhook`: no
   * components, since Discord only accepts them from application-owned
   * webhooks, and the legacy webhooks are not.
   */
  mode?: DeliveryMode;
}

/** Longest name shown in an attribution or field, before the field's own limit. */
const NAME_MAX = 100;
/** Longest attribution line. */
const ATTRIBUTION_MAX = 300;
/** Longest label of the linked record on the 📎 line. */
const LINK_LABEL_MAX = 80;
/** Characters of the linked record's text in its preview (Flipfix: 50, then "..."). */
const LINK_PREVIEW_CHARS = 50;
/** Flipfix keeps the description this many characters under Discord's 4096. */
const DESCRIPTION_MARGIN = 5;
/** Longest URL put in Markdown inside a description; longer ones are left out rather than eat the budget. */
const MARKDOWN_URL_MAX = 512;
/** Photos shown per post (Discord's gallery shows 4). */
export const MAX_PHOTOS = 4;

const SNOWFLAKE = /^\d{17,20}$/;

const PRIORITY_LABELS: Record<Priority, string> = {
  untriaged: 'Untriaged',
  unplayable: 'Unplayable',
  major: 'Major',
  minor: 'Minor',
  task: 'Task',
};

const PART_STATUS_LABELS: Record<PartRequestStatus, string> = {
  requested: 'Requested',
  ordered: 'Ordered',
  received: 'Received',
  cancelled: 'Cancelled',
};

/** Single-line user text: sanitized, whitespace collapsed, unable to ping. */
function cleanInline(text: string | null | undefined): string {
  return neutralizeMentions(inlineText(text ?? ''));
}

/** A name for display, or '' when it has no visible content. */
function cleanName(name: string | null | undefined): string {
  return truncate(cleanInline(name), NAME_MAX);
}

/** The machine as titles name it: short name, else name. */
export function machineLabel(machine: MachineRef | null): string | null {
  if (machine === null) return null;
  const label = cleanInline(machine.shortName) || cleanInline(machine.name);
  return label === '' ? `Machine #${machine.id}` : label;
}

/** Who a post credits: Flipfix's rules per kind, "Anonymous" when nobody. */
export function attributionNames(subject: PostSubject): string[] {
  let names: string[];
  switch (subject.kind) {
    case 'problem_report': {
      // Never the contact: the form promises only maintainers see it.
      const name = cleanName(subject.reporterName);
      names = name === '' ? [] : [name];
      break;
    }
    case 'log_entry':
      names = subject.maintainerNames.map(cleanName).filter((n) => n !== '');
      break;
    case 'part_request':
      names = [cleanName(subject.requestedByName)].filter((n) => n !== '');
      break;
    case 'part_request_update':
      names = [cleanName(subject.postedByName)].filter((n) => n !== '');
      break;
  }
  return names.length > 0 ? names : ['Anonymous'];
}

function titleOf(subject: PostSubject): string {
  const emoji = KIND_EMOJI[subject.kind];
  const machine = machineLabel(subject.machine);
  switch (subject.kind) {
    case 'problem_report':
    case 'log_entry':
      return truncate(`${emoji} ${machine ?? ''}`, DISCORD_LIMITS.title);
    case 'part_request':
      return truncate(machine === null ? `${emoji} Parts Request` : `${emoji} Parts Request for ${machine}`, DISCORD_LIMITS.title);
    case 'part_request_update':
      return truncate(
        machine === null ? `${emoji} Update on Parts Request` : `${emoji} Update on Parts Request for ${machine}`,
        DISCORD_LIMITS.title,
      );
  }
}

/** User text for a description: sanitized, record links rendered, unable to ping. */
function cleanBody(subject: PostSubject, text: string): string {
  return neutralizeMentions(renderLinks(sanitizeText(text), subject.links)).trim();
}

/** One line of plain text for previews and labels: record links as their names, unable to ping. */
function plainLine(subject: PostSubject, text: string): string {
  return neutralizeMentions(inlineText(renderLinks(text, subject.links, { plain: true })));
}

/**
 * Flipfix's preview: the first `chars` code points of the text (links
 * already rendered as their names) and "..." when there was more. The cut
 * never falls inside a Markdown link the user wrote, nor splits a surrogate pair.
 */
function preview(text: string, chars: number): string {
  const points = Array.from(text);
  if (points.length <= chars) return text;
  let cut = points.slice(0, chars).join('').length;
  const inside = linkSpans(text).find((span) => span.start < cut && cut < span.end);
  if (inside !== undefined) cut = inside.start;
  return `${text.slice(0, cut)}...`;
}

function bodyOf(subject: PostSubject): string {
  switch (subject.kind) {
    case 'problem_report': {
      const label = subject.problemType === 'other' ? null : PROBLEM_TYPE_LABELS[subject.problemType];
      return label === null ? subject.description : `${label}: ${subject.description}`;
    }
    case 'log_entry':
    case 'part_request':
    case 'part_request_update':
      return subject.text;
  }
}

/**
 * The 📎 line linking a related record, or null, as Flipfix writes it: the
 * link covers the label only, then `: ` and the preview (the lead, such as
 * the problem type, then the first 50 characters of its text).
 */
function linkedLine(subject: PostSubject): string | null {
  const linked = subject.kind === 'log_entry' ? subject.problemReport : subject.kind === 'part_request_update' ? subject.partRequest : null;
  if (linked === null) return null;
  const label = escapeMarkdownLinkText(truncate(cleanInline(linked.label), LINK_LABEL_MAX) || 'Linked record');
  const url = safeUrl(linked.url, MARKDOWN_URL_MAX);
  const link = url === null ? label : `[${label}](${url})`;
  // Both parts are bounded: the lead like a label, the preview by its 50 characters.
  const parts = [truncate(cleanInline(linked.lead), LINK_LABEL_MAX), preview(plainLine(subject, linked.text), LINK_PREVIEW_CHARS)].filter((p) => p !== '');
  return parts.length === 0 ? `📎 ${link}` : `📎 ${link}: ${parts.join(': ')}`;
}

/** Lines kept after the body whatever its length: the update's status change. */
function bodyTrailer(subject: PostSubject): string | null {
  if (subject.kind === 'part_request_update' && subject.newStatus !== null) {
    return `Status → ${PART_STATUS_LABELS[subject.newStatus]}`;
  }
  return null;
}

function fieldsOf(subject: PostSubject): APIEmbedField[] {
  const fields: APIEmbedField[] = [];
  if (subject.kind === 'problem_report') {
    fields.push({ name: 'Status', value: subject.status === 'closed' ? 'Closed' : 'Open', inline: true });
    if (subject.priority !== 'untriaged') fields.push({ name: 'Priority', value: PRIORITY_LABELS[subject.priority], inline: true });
    const claimed = cleanName(subject.claimedByName);
    if (claimed !== '') fields.push({ name: 'Claimed by', value: claimed, inline: true });
  } else if (subject.kind === 'part_request') {
    fields.push({ name: 'Status', value: PART_STATUS_LABELS[subject.status], inline: true });
  }
  return fields;
}

function footerOf(subject: PostSubject): string {
  switch (subject.kind) {
    case 'problem_report':
      return `Problem report #${subject.id}`;
    case 'log_entry':
      return `Log entry #${subject.id}`;
    case 'part_request':
      return `Part request #${subject.id}`;
    case 'part_request_update':
      return `Part request #${subject.partRequestId} · update #${subject.id}`;
  }
}

function colorOf(subject: PostSubject): number {
  if (subject.kind !== 'problem_report') return COLORS.info;
  return subject.status === 'closed' ? COLORS.resolved : COLORS.problemReport;
}

function isoTimestamp(date: Date): string | null {
  // Outside years 0-9999 toISOString() gives `+010000-…`, which Discord's date-time format refuses.
  return date instanceof Date && !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 0 && date.getUTCFullYear() <= 9999 ? date.toISOString() : null;
}

/**
 * The description, as Flipfix lays it out: body (cut on a word boundary to
 * whatever the budget leaves, with Flipfix's "..."), then the paragraphs that
 * are always kept (update status, 📎 linked record, attribution), each after
 * a blank line.
 */
function descriptionOf(subject: PostSubject, budget: number): string {
  const tail = [bodyTrailer(subject), linkedLine(subject), truncate(`— ${attributionNames(subject).join(', ')}`, ATTRIBUTION_MAX)]
    .filter((l): l is string => l !== null)
    .join('\n\n');
  const separator = '\n\n';
  const room = budget - tail.length - separator.length;
  const body = room > 0 ? truncate(cleanBody(subject, bodyOf(subject)), room, { ellipsis: '...' }) : '';
  // The tail is bounded (a few hundred characters); the final cut only matters for absurd budgets.
  return truncate(body === '' ? tail : `${body}${separator}${tail}`, budget);
}

/** Photo URLs made absolute (a path such as `/media/a.jpg` is joined to the site URL, as Flipfix does), unusable ones dropped. */
function photoUrls(urls: readonly string[], baseUrl: string): string[] {
  const base = baseUrl.replace(/\/+$/, '');
  const out: string[] = [];
  for (const raw of urls) {
    const path = raw.trim();
    const url = httpUrl(path.startsWith('/') && !path.startsWith('//') ? base + path : path, DISCORD_LIMITS.embedUrl);
    if (url !== null && !out.includes(url)) out.push(url);
    if (out.length === MAX_PHOTOS) break;
  }
  return out;
}

/** The main embed followed by the gallery embeds. */
function embedsOf(subject: PostSubject, baseUrl: string): APIEmbed[] {
  const url = httpUrl(subject.url, DISCORD_LIMITS.embedUrl);
  const title = titleOf(subject);
  const fields = fieldsOf(subject);
  const footer = footerOf(subject);
  let fixed = title.length + footer.length;
  for (const f of fields) fixed += f.name.length + f.value.length;
  const budget = Math.min(DISCORD_LIMITS.description - DESCRIPTION_MARGIN, DISCORD_LIMITS.embedTotal - fixed);
  const color = colorOf(subject);

  const main: APIEmbed = { title, color, description: descriptionOf(subject, budget) };
  if (url !== null) main.url = url;
  if (fields.length > 0) main.fields = fields;
  main.footer = { text: footer };
  const ts = isoTimestamp(subject.createdAt);
  if (ts !== null) main.timestamp = ts;

  // Discord shows consecutive embeds sharing one url as a single gallery; without a url there is no gallery.
  const photos = photoUrls(subject.photoUrls, baseUrl).slice(0, url === null ? 1 : MAX_PHOTOS);
  const [first, ...rest] = photos;
  if (first !== undefined) main.image = { url: first };
  const embeds = [main];
  if (url !== null) for (const photo of rest) embeds.push({ url, image: { url: photo }, color });
  return embeds;
}

function actionButton(style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger, label: string, action: CustomIdAction): APIButtonComponent {
  return { type: ComponentType.Button, style, label, custom_id: encodeCustomId(action) };
}

function actionButtons(subject: PostSubject): APIButtonComponent[] {
  const id = subject.id;
  if (subject.kind === 'problem_report') {
    // As on the record's page: a closed report can be opened again.
    if (subject.status === 'closed') return [actionButton(ButtonStyle.Secondary, 'Reopen', { action: 'reopen', entity: 'problem_report', id })];
    const claimed = subject.claimedByName !== null && subject.claimedByName.trim() !== '';
    return [
      { ...actionButton(ButtonStyle.Primary, 'Claim', { action: 'claim', entity: 'problem_report', id }), disabled: claimed },
      actionButton(ButtonStyle.Danger, 'Close', { action: 'close', entity: 'problem_report', id }),
    ];
  }
  if (subject.kind === 'part_request') {
    if (subject.status === 'requested') return [actionButton(ButtonStyle.Primary, 'Mark ordered', { action: 'ordered', entity: 'part_request', id })];
    if (subject.status === 'ordered') return [actionButton(ButtonStyle.Success, 'Mark received', { action: 'received', entity: 'part_request', id })];
  }
  return [];
}

function componentsOf(subject: PostSubject, options: FormatOptions): APIActionRowComponent<APIButtonComponent>[] {
  if ((options.mode ?? 'bot') !== 'bot' || options.buttons === false) return [];
  const buttons: APIButtonComponent[] = [];
  const url = httpUrl(subject.url, DISCORD_LIMITS.buttonUrl);
  if (url !== null) buttons.push({ type: ComponentType.Button, style: ButtonStyle.Link, label: 'View in Flipfix', url });
  // Ids that cannot be encoded (never produced by the database) just get no action buttons.
  if (options.actions !== false && Number.isSafeInteger(subject.id) && subject.id > 0) buttons.push(...actionButtons(subject));
  return buttons.length === 0 ? [] : [{ type: ComponentType.ActionRow, components: buttons }];
}

function mentionRole(subject: PostSubject, options: FormatOptions): string | null {
  const roleId = options.roleMention?.roleId;
  if (roleId === undefined || !SNOWFLAKE.test(roleId)) return null;
  return subject.kind === 'problem_report' && subject.priority === 'unplayable' ? roleId : null;
}

/**
 * The message announcing `subject`: embeds (main + up to 3 gallery embeds),
 * components per {@link FormatOptions.mode}, `allowed_mentions: { parse: [] }`
 * plus the configured role for unplayable problem reports. No nonce: the
 * poster adds it.
 */
export function formatPost(subject: PostSubject, options: FormatOptions): RESTPostAPIChannelMessageJSONBody {
  const body: RESTPostAPIChannelMessageJSONBody = { embeds: embedsOf(subject, options.baseUrl) };
  const components = componentsOf(subject, options);
  if (components.length > 0) body.components = components;
  const roleId = mentionRole(subject, options);
  const allowed: APIAllowedMentions = { parse: [] };
  if (roleId !== null) {
    body.content = `<@&${roleId}>`;
    allowed.roles = [roleId];
  }
  body.allowed_mentions = allowed;
  return body;
}

/**
 * The PATCH body that brings an earlier post up to date after a status
 * change (problem report closed, reopened or claimed; part request ordered,
 * received...): same layout as {@link formatPost}, new colour, fields and
 * buttons. `content` is left out so the original text (a role mention) stays
 * and nobody is pinged again; in bot mode `components` is always sent, empty
 * when no button is left, so stale buttons disappear.
 */
export function formatStatusEdit(subject: PostSubject, options: FormatOptions): RESTPatchAPIChannelMessageJSONBody {
  const body: RESTPatchAPIChannelMessageJSONBody = { embeds: embedsOf(subject, options.baseUrl), allowed_mentions: { parse: [] } };
  if ((options.mode ?? 'bot') === 'bot') body.components = componentsOf(subject, options);
  return body;
}

/**
 * Name for a thread started on a post, ≤ 100 characters, e.g.
 * `⚠️ EBD: Stuck Ball: ball stuck behind the…`.
 */
export function threadName(subject: PostSubject): string {
  const machine = machineLabel(subject.machine);
  const head = truncate(`${KIND_EMOJI[subject.kind]} ${machine ?? footerOf(subject)}`, 60);
  const words = plainLine(subject, bodyOf(subject));
  const name = words === '' ? head : `${head}: ${words}`;
  return truncate(name, DISCORD_LIMITS.threadName);
}

/** Path of the image test posts show; the web app serves it so an admin can see images resolve. */
export const TEST_IMAGE_PATH = '/static/flipfix-test-photo.png';

/** What Flipfix's test message calls each event type (its handlers' display names). */
const TEST_LABELS: Record<EventType, string> = {
  problem_report_created: 'Problem Report',
  log_entry_created: 'Log Entry',
  part_request_created: 'Parts Request',
  part_request_update_created: 'Parts Request Update',
  problem_report_status_changed: 'Problem Report Status Change',
};

/**
 * Flipfix's test message for `eventType`, to the letter: purple, "Test:
 * <kind>", a description naming the test image's URL (its one link, which the
 * web app serves at {@link TEST_IMAGE_PATH}) and the prefix that photo paths
 * are joined to, and that image shown, so an admin can check from Discord that
 * the site URL is right. In bot mode a link button opens the site.
 */
export function formatTestMessage(
  eventType: EventType,
  baseUrl: string,
  options: { mode?: DeliveryMode } = {},
): RESTPostAPIChannelMessageJSONBody {
  const base = baseUrl.replace(/\/+$/, '');
  const imageUrl = `${base}${TEST_IMAGE_PATH}`;
  const embed: APIEmbed = {
    title: `Test: ${TEST_LABELS[eventType]}`,
    description:
      'This is a test message from Flipfix.\n\n' +
      `If your server URLs are configured correctly, this post should show a preview of this image: ${imageUrl}\n\n` +
      '**Machine:** Test Machine\n' +
      '**Location:** Test Location\n' +
      `**Image Prefix:** ${base}/ (will not be the same path as the test image above)`,
    color: COLORS.test,
  };
  const image = httpUrl(imageUrl, DISCORD_LIMITS.embedUrl);
  if (image !== null) embed.image = { url: image };
  const body: RESTPostAPIChannelMessageJSONBody = { embeds: [embed], allowed_mentions: { parse: [] } };
  const url = httpUrl(`${base}/`, DISCORD_LIMITS.buttonUrl);
  if ((options.mode ?? 'bot') === 'bot' && url !== null) {
    body.components = [
      { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Link, label: 'View in Flipfix', url }] },
    ];
  }
  return body;
}

/** One event in a digest. */
export interface DigestItem {
  subject: PostSubject;
  eventType: EventType;
}

/** Options for {@link formatDigest}. */
export interface DigestOptions extends FormatOptions {
  /** Whose work session this is; defaults to the first item's attribution. */
  actorName?: string | null;
}

/** Longest label of one digest line (before Markdown escaping). */
const DIGEST_LINE_LABEL_MAX = 90;
/** Room kept at the end of a field value or of the message for an "…and N more" line. */
const MORE_RESERVE = 40;

function snippet(subject: PostSubject, text: string, max: number): string {
  return truncate(plainLine(subject, text), max);
}

function digestLabel(item: DigestItem): string {
  const s = item.subject;
  switch (s.kind) {
    case 'problem_report':
      if (item.eventType === 'problem_report_status_changed') {
        return `${s.status === 'closed' ? 'Closed' : 'Reopened'} problem report #${s.id}: ${snippet(s, s.description, DIGEST_LINE_LABEL_MAX)}`;
      }
      return `Problem report #${s.id}: ${snippet(s, bodyOf(s), DIGEST_LINE_LABEL_MAX)}`;
    case 'log_entry':
      return `Log entry: ${snippet(s, s.text, DIGEST_LINE_LABEL_MAX)}`;
    case 'part_request':
      return `Parts request #${s.id}: ${snippet(s, s.text, DIGEST_LINE_LABEL_MAX)}`;
    case 'part_request_update': {
      const status = s.newStatus === null ? '' : ` (→ ${PART_STATUS_LABELS[s.newStatus]})`;
      return `Update on parts request #${s.partRequestId}${status}: ${snippet(s, s.text, DIGEST_LINE_LABEL_MAX)}`;
    }
  }
}

function digestLine(item: DigestItem): string {
  const emoji = item.eventType === 'problem_report_status_changed' && item.subject.kind === 'problem_report' && item.subject.status === 'closed' ? '✅' : KIND_EMOJI[item.subject.kind];
  const label = escapeMarkdownLinkText(truncate(digestLabel(item), DIGEST_LINE_LABEL_MAX));
  const url = safeUrl(item.subject.url, MARKDOWN_URL_MAX);
  return url === null ? `${emoji} ${label}` : `${emoji} [${label}](${url})`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * One message summarizing one person's work session: a title such as
 * "🧰 Work session by Alice — 7 updates" and one field per machine listing
 * each event as a short linked line. Holds every limit whatever the number
 * of items: lines that do not fit a field, and machines beyond the 25th
 * field or the 6000-character budget, are summarized as "…and N more".
 * An unplayable problem report among the items pings the configured role,
 * as its own post would have.
 */
export function formatDigest(items: readonly DigestItem[], options: DigestOptions): RESTPostAPIChannelMessageJSONBody {
  const actor = cleanName(options.actorName) || (items[0] ? attributionNames(items[0].subject)[0] : undefined) || 'Anonymous';

  const groups = new Map<string, { name: string; items: DigestItem[] }>();
  for (const item of items) {
    const m = item.subject.machine;
    const key = m === null ? 'none' : `m${m.id}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { name: truncate(machineLabel(m) ?? 'No machine', DISCORD_LIMITS.fieldName), items: [] };
      groups.set(key, group);
    }
    group.items.push(item);
  }

  const title = truncate(`🧰 Work session by ${actor} — ${plural(items.length, 'update')}`, DISCORD_LIMITS.title);
  const description = `${plural(items.length, 'update')} on ${plural(groups.size, 'machine')}`;
  let used = title.length + description.length;
  const fields: APIEmbedField[] = [];
  const list = [...groups.values()];
  let shown = 0;
  for (const group of list) {
    const isLastSlot = fields.length === DISCORD_LIMITS.fields - 1 && shown < list.length - 1;
    if (isLastSlot) break;
    let value = '';
    let count = 0;
    for (const item of group.items) {
      const line = digestLine(item);
      const next = value === '' ? line : `${value}\n${line}`;
      if (next.length > DISCORD_LIMITS.fieldValue - MORE_RESERVE) break;
      value = next;
      count++;
    }
    const more = group.items.length - count;
    if (more > 0) value = value === '' ? `…${plural(more, 'update')}` : `${value}\n…and ${more} more`;
    if (used + group.name.length + value.length > DISCORD_LIMITS.embedTotal - MORE_RESERVE * 2) break;
    used += group.name.length + value.length;
    fields.push({ name: group.name, value, inline: false });
    shown++;
  }
  if (shown < list.length) {
    const rest = list.slice(shown);
    const restItems = rest.reduce((n, g) => n + g.items.length, 0);
    fields.push({ name: '…and more', value: `…and ${plural(restItems, 'more update')} on ${plural(rest.length, 'more machine')}`, inline: false });
  }

  const embed: APIEmbed = { title, description, color: COLORS.info, fields };
  let latest: Date | null = null;
  for (const item of items) {
    const t = item.subject.createdAt;
    if (t instanceof Date && !Number.isNaN(t.getTime()) && (latest === null || t > latest)) latest = t;
  }
  const timestamp = latest === null ? null : isoTimestamp(latest);
  if (timestamp !== null) embed.timestamp = timestamp;

  const body: RESTPostAPIChannelMessageJSONBody = { embeds: [embed] };
  const allowed: APIAllowedMentions = { parse: [] };
  const roleId =
    items
      .filter((i) => i.eventType === 'problem_report_created')
      .map((i) => mentionRole(i.subject, options))
      .find((r) => r !== null) ?? null;
  if (roleId !== null) {
    body.content = `<@&${roleId}>`;
    allowed.roles = [roleId];
  }
  body.allowed_mentions = allowed;
  return body;
}
