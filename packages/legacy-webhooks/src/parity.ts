/**
 * The rollout's evidence: for events routed while `deliveryMode` was `both`
 * (they have a bot post and at least one webhook delivery), did both paths
 * deliver, and did they send the same thing? The comparison uses the bodies
 * stored in `deliveries.payload` and ignores what legitimately differs
 * between a bot post and a webhook post: components (buttons need an
 * application-owned sender), the nonce, and role mentions (the bot may ping
 * the unplayable role; legacy webhooks never pinged). Embeds must be equal.
 */
import type { DbLike, Prisma } from '@flipfix/db';
import { prismaOf } from '@flipfix/db';

/** How one side of an event ended, over all of its deliveries. */
export type SideStatus = 'delivered' | 'pending' | 'failed';

/** One event that is not a clean match. */
export interface ParityMismatch {
  eventId: string;
  type: string;
  entityId: number;
  createdAt: Date;
  problem: 'webhook_failed' | 'bot_failed' | 'both_failed' | 'payload_differs';
  bot: { status: string; error: string | null };
  webhooks: { endpointId: string; status: string; error: string | null; differences?: string[] }[];
}

/** The answer of {@link rolloutReport} and `GET /api/admin/rollout`. */
export interface RolloutReport {
  since: Date | null;
  /** Events with both a bot post and a webhook delivery. */
  events: number;
  counts: { bothDelivered: number; onlyBot: number; onlyWebhook: number; bothFailed: number; pending: number };
  /** Payload comparisons over the events both paths delivered. */
  payloads: { compared: number; equivalent: number; different: number };
  /** Newest first, at most `mismatchLimit`. */
  mismatches: ParityMismatch[];
  mismatchesTruncated: boolean;
  /** True when there is evidence and all of it says the bot matches the webhooks. */
  ready: boolean;
}

/** Options for {@link rolloutReport}. */
export interface RolloutReportOptions {
  /** Only events created at or after this time. */
  since?: Date | undefined;
  /** Most mismatches listed (counts are always complete). Default 100. */
  mismatchLimit?: number | undefined;
}

const PAGE = 500;

/** Builds the parity report over every qualifying event (read in pages, so memory stays flat). */
export async function rolloutReport(db: DbLike, options: RolloutReportOptions = {}): Promise<RolloutReport> {
  const prisma = prismaOf(db);
  const limit = options.mismatchLimit ?? 100;
  const report: RolloutReport = {
    since: options.since ?? null,
    events: 0,
    counts: { bothDelivered: 0, onlyBot: 0, onlyWebhook: 0, bothFailed: 0, pending: 0 },
    payloads: { compared: 0, equivalent: 0, different: 0 },
    mismatches: [],
    mismatchesTruncated: false,
    ready: false,
  };
  const where: Prisma.OutboxEventWhereInput = {
    ...(options.since ? { createdAt: { gte: options.since } } : {}),
    AND: [{ deliveries: { some: { target: 'bot', action: 'post' } } }, { deliveries: { some: { target: 'webhook' } } }],
  };
  const mismatches: ParityMismatch[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await prisma.outboxEvent.findMany({
      where,
      orderBy: { id: 'asc' },
      take: PAGE,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      select: {
        id: true,
        type: true,
        entityId: true,
        createdAt: true,
        deliveries: {
          where: { OR: [{ target: 'bot', action: 'post' }, { target: 'webhook' }] },
          select: { target: true, targetKey: true, status: true, lastError: true, payload: true, embedIndex: true },
          orderBy: { createdAt: 'asc' },
        },
      },
    });
    for (const event of page) {
      report.events += 1;
      const bots = event.deliveries.filter((d) => d.target === 'bot');
      const hooks = event.deliveries.filter((d) => d.target === 'webhook');
      const bot = sideOf(bots);
      const hook = sideOf(hooks);
      const base = {
        eventId: event.id,
        type: event.type,
        entityId: event.entityId,
        createdAt: event.createdAt,
        bot: { status: bots.map((d) => d.status).join(','), error: bots.find((d) => d.lastError)?.lastError ?? null },
      };
      const hookRows = hooks.map((d) => ({ endpointId: d.targetKey, status: d.status, error: d.lastError }));
      if (bot === 'pending' || hook === 'pending') {
        report.counts.pending += 1;
        continue;
      }
      if (bot === 'failed' || hook === 'failed') {
        const problem = bot === 'failed' && hook === 'failed' ? 'both_failed' : bot === 'failed' ? 'bot_failed' : 'webhook_failed';
        if (problem === 'both_failed') report.counts.bothFailed += 1;
        else if (problem === 'bot_failed') report.counts.onlyWebhook += 1;
        else report.counts.onlyBot += 1;
        mismatches.push({ ...base, problem, webhooks: hookRows });
        continue;
      }
      report.counts.bothDelivered += 1;
      report.payloads.compared += 1;
      const botRow = bots[0]!;
      const differing = hooks
        .map((h) => ({ h, differences: comparePayloads(botRow.payload, h.payload, { botEmbedIndex: botRow.embedIndex ?? 0 }) }))
        .filter((x) => x.differences.length > 0);
      if (differing.length === 0) {
        report.payloads.equivalent += 1;
      } else {
        report.payloads.different += 1;
        mismatches.push({
          ...base,
          problem: 'payload_differs',
          webhooks: hookRows.map((row) => {
            const d = differing.find((x) => x.h.targetKey === row.endpointId);
            return d ? { ...row, differences: d.differences } : row;
          }),
        });
      }
    }
    if (page.length < PAGE) break;
    cursor = page[page.length - 1]!.id;
  }
  mismatches.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  report.mismatches = mismatches.slice(0, limit);
  report.mismatchesTruncated = mismatches.length > limit;
  report.ready = report.events > 0 && report.counts.bothDelivered === report.events && report.payloads.different === 0;
  return report;
}

function sideOf(rows: readonly { status: string }[]): SideStatus {
  if (rows.some((r) => r.status === 'pending' || r.status === 'sending')) return 'pending';
  return rows.length > 0 && rows.every((r) => r.status === 'delivered') ? 'delivered' : 'failed';
}

type Json = Prisma.JsonValue;
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The embeds that belong to one record in a message: its titled embed, found
 * by the record's link (`url`), and the gallery embeds after it (they share
 * its `url`). How the bot packed records into messages is its own business:
 * a flood batch holds other records' embeds too, and the row's stored body
 * may be the record's own part of it. Without a link to look for, the embed
 * at `index` is used.
 */
function eventEmbeds(body: JsonObject, index: number, link?: Json): Json[] {
  const embeds = Array.isArray(body.embeds) ? body.embeds : [];
  const found = link === undefined ? -1 : embeds.findIndex((e) => isObject(e) && e.url === link && 'title' in e);
  // Not found: the index in the message, or the body's first embed when the body is the record's own part.
  const start = found >= 0 ? found : embeds[index] !== undefined ? index : 0;
  const first = embeds[start];
  if (first === undefined) return [];
  const url = isObject(first) ? first.url : undefined;
  const out: Json[] = [first];
  for (const e of embeds.slice(start + 1)) {
    if (!isObject(e) || url === undefined || e.url !== url || 'title' in e) break;
    out.push(e);
  }
  return out;
}

/** Content without role mentions (the bot may ping the unplayable role; webhooks never do). */
function contentOf(body: JsonObject): string {
  const content = typeof body.content === 'string' ? body.content : '';
  return content.replace(/<@&\d+>/g, '').trim();
}

function mentionsOf(body: JsonObject): Json {
  const allowed = isObject(body.allowed_mentions) ? { ...body.allowed_mentions } : {};
  delete allowed.roles;
  return allowed;
}

/** Paths where two JSON values differ (`embeds[0].description`, `embeds.length`...). */
function diffPaths(a: Json | undefined, b: Json | undefined, path: string, out: string[]): void {
  if (out.length >= 20) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}.length`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffPaths(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffPaths(a[key], b[key], `${path}.${key}`, out);
    return;
  }
  if (a !== b) out.push(path);
}

/**
 * Where a bot post and a webhook post of the same event differ in what they
 * say about the event's record, ignoring components, nonce / enforce_nonce,
 * role mentions and how the bot packed records into messages; `[]` when they
 * are equivalent. A missing payload is itself a difference.
 */
export function comparePayloads(bot: unknown, webhook: unknown, options: { botEmbedIndex?: number } = {}): string[] {
  if (!isObject(bot)) return ['bot payload missing'];
  if (!isObject(webhook)) return ['webhook payload missing'];
  const out: string[] = [];
  const hookEmbeds = eventEmbeds(webhook, 0);
  const first = hookEmbeds[0];
  const botEmbeds = eventEmbeds(bot, options.botEmbedIndex ?? 0, isObject(first) ? first.url : undefined);
  if (botEmbeds.length === 0 && hookEmbeds.length === 0) out.push('embeds missing');
  diffPaths(botEmbeds, hookEmbeds, 'embeds', out);
  if (contentOf(bot) !== contentOf(webhook)) out.push('content');
  diffPaths(mentionsOf(bot), mentionsOf(webhook), 'allowed_mentions', out);
  return out;
}
