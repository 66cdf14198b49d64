/**
 * Webhook endpoints and their event subscriptions. Every function here that
 * answers a caller returns {@link WebhookEndpointView}, whose URL is masked;
 * the raw URL is read only by {@link loadEndpointSecret}, which the package
 * does not export (the delivery code and the test sender use it).
 */
import { AppError, type DbLike, NotFoundError, prismaOf, type Prisma, type PrismaClient } from '@flipfix/db';
import { EVENT_TYPES, type EventType, isEventType } from '@flipfix/events';
import { maskWebhookUrl, parseWebhookUrl } from '@flipfix/discord';
import {
  type CreateEndpointInput,
  createEndpointSchema,
  type UpdateEndpointInput,
  updateEndpointSchema,
  type WebhookUrlRules,
} from './validation';

/** An endpoint as callers see it: the URL's token is masked. */
export interface WebhookEndpointView {
  id: string;
  name: string;
  /** e.g. `https://discord.com/api/webhooks/123…/***`. */
  url: string;
  /** The webhook's id (not a secret), to match it in Discord's channel settings. */
  webhookId: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  /** Event types with an enabled subscription, in catalog order. */
  events: EventType[];
  subscriptions: { eventType: string; enabled: boolean }[];
  createdAt: Date;
  updatedAt: Date;
}

const withSubscriptions = { subscriptions: { orderBy: { id: 'asc' } } } satisfies Prisma.WebhookEndpointInclude;
type EndpointRow = Prisma.WebhookEndpointGetPayload<{ include: typeof withSubscriptions }>;

/** Why an admin-disabled endpoint is off, as the console shows it. */
export const DISABLED_BY_ADMIN = 'disabled by an admin';

function catalogOrder(types: Iterable<string>): EventType[] {
  const set = new Set(types);
  return EVENT_TYPES.filter((t) => set.has(t));
}

/** The masked view of a row. */
export function toView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    name: row.name,
    url: maskWebhookUrl(row.url),
    webhookId: parseWebhookUrl(row.url)?.id ?? null,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt,
    events: catalogOrder(row.subscriptions.filter((s) => s.enabled && isEventType(s.eventType)).map((s) => s.eventType)),
    subscriptions: row.subscriptions.map((s) => ({ eventType: s.eventType, enabled: s.enabled })),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function notFound(id: string): NotFoundError {
  // The id is echoed only when it looks like one, so odd input never lands in messages.
  return new NotFoundError('Webhook endpoint', UUID.test(id) ? id : '(invalid id)');
}

/** Options shared by the write functions. */
export interface EndpointServiceOptions extends WebhookUrlRules {}

async function assertWebhookFree(prisma: PrismaClient | Prisma.TransactionClient, url: string, exceptId?: string): Promise<void> {
  const webhookId = parseWebhookUrl(url)?.id;
  if (webhookId === undefined) return;
  const others = await prisma.webhookEndpoint.findMany({
    where: { url: { contains: `/webhooks/${webhookId}/` }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { id: true, url: true },
  });
  if (others.some((o) => parseWebhookUrl(o.url)?.id === webhookId)) {
    // Two endpoints on one webhook would post every event twice.
    throw new AppError('conflict', 'Another endpoint already uses this webhook', { field: 'url' });
  }
}

/**
 * Creates an endpoint with a subscription per listed event type. Validates
 * `input` (name 1..80, a webhook URL, events from the catalog): a bad field
 * throws a zod error naming it; a webhook already used by another endpoint is
 * a `conflict` on `url`.
 */
export async function createWebhookEndpoint(db: DbLike, input: unknown, options: EndpointServiceOptions = {}): Promise<WebhookEndpointView> {
  const data: CreateEndpointInput = createEndpointSchema(options).parse(input);
  const prisma = prismaOf(db);
  const row = await prisma.$transaction(async (tx) => {
    await assertWebhookFree(tx, data.url);
    const enabled = data.enabled ?? true;
    return tx.webhookEndpoint.create({
      data: {
        name: data.name,
        url: data.url,
        enabled,
        ...(enabled ? {} : { disabledReason: DISABLED_BY_ADMIN, disabledAt: new Date() }),
        subscriptions: { create: data.events.map((eventType) => ({ eventType, enabled: true })) },
      },
      include: withSubscriptions,
    });
  });
  return toView(row);
}

/** Every endpoint, oldest first, masked. */
export async function listWebhookEndpoints(db: DbLike): Promise<WebhookEndpointView[]> {
  const rows = await prismaOf(db).webhookEndpoint.findMany({ include: withSubscriptions, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return rows.map(toView);
}

/** One endpoint, masked, or {@link NotFoundError}. */
export async function getWebhookEndpoint(db: DbLike, id: string): Promise<WebhookEndpointView> {
  if (!UUID.test(id)) throw notFound(id);
  const row = await prismaOf(db).webhookEndpoint.findUnique({ where: { id }, include: withSubscriptions });
  if (row === null) throw notFound(id);
  return toView(row);
}

/**
 * Changes an endpoint. `events` replaces the set of enabled subscriptions
 * (types left out are kept, disabled). `enabled: true` clears a disabled
 * reason (an admin fixed the webhook); `enabled: false` records that an admin
 * turned it off.
 */
export async function updateWebhookEndpoint(
  db: DbLike,
  id: string,
  input: unknown,
  options: EndpointServiceOptions = {},
): Promise<WebhookEndpointView> {
  const patch: UpdateEndpointInput = updateEndpointSchema(options).parse(input);
  if (!UUID.test(id)) throw notFound(id);
  const prisma = prismaOf(db);
  const row = await prisma.$transaction(async (tx) => {
    const current = await tx.webhookEndpoint.findUnique({ where: { id }, select: { id: true, enabled: true } });
    if (current === null) throw notFound(id);
    if (patch.url !== undefined) await assertWebhookFree(tx, patch.url, id);
    // `enabled: true` also clears a reason Discord gave (the admin fixed the webhook);
    // turning off an endpoint that is already off keeps the reason it has.
    const enabledChange =
      patch.enabled === true
        ? { enabled: true, disabledReason: null, disabledAt: null }
        : patch.enabled === false && current.enabled
          ? { enabled: false, disabledReason: DISABLED_BY_ADMIN, disabledAt: new Date() }
          : {};
    await tx.webhookEndpoint.update({
      where: { id },
      data: {
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.url === undefined ? {} : { url: patch.url }),
        ...enabledChange,
      },
    });
    if (patch.events !== undefined) {
      await tx.webhookEventSubscription.updateMany({
        where: { endpointId: id, eventType: { notIn: patch.events } },
        data: { enabled: false },
      });
      for (const eventType of patch.events) {
        await tx.webhookEventSubscription.upsert({
          where: { endpointId_eventType: { endpointId: id, eventType } },
          create: { endpointId: id, eventType, enabled: true },
          update: { enabled: true },
        });
      }
    }
    return tx.webhookEndpoint.findUniqueOrThrow({ where: { id }, include: withSubscriptions });
  });
  return toView(row);
}

/**
 * Deletes an endpoint and its subscriptions. Its ledger rows stay (they are
 * history); open ones are skipped by the delivery code.
 */
export async function deleteWebhookEndpoint(db: DbLike, id: string): Promise<void> {
  if (!UUID.test(id)) throw notFound(id);
  const { count } = await prismaOf(db).webhookEndpoint.deleteMany({ where: { id } });
  if (count === 0) throw notFound(id);
}

/**
 * Turns an endpoint off because Discord says its webhook is gone or its
 * token is invalid ("as Discord asks": do not keep calling it). Returns
 * whether this call disabled it (false when it already was off).
 */
export async function disableWebhookEndpoint(db: DbLike, id: string, reason: string): Promise<boolean> {
  const { count } = await prismaOf(db).webhookEndpoint.updateMany({
    where: { id, enabled: true },
    data: { enabled: false, disabledReason: reason.slice(0, 500), disabledAt: new Date() },
  });
  return count > 0;
}

/** Ids of the enabled endpoints with an enabled subscription to `type`, oldest first (the router's input). */
export async function webhookEndpointIdsFor(db: DbLike, type: EventType): Promise<string[]> {
  const rows = await prismaOf(db).webhookEndpoint.findMany({
    where: { enabled: true, subscriptions: { some: { eventType: type, enabled: true } } },
    select: { id: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((r) => r.id);
}

/** What the delivery code needs; holds the secret URL. Internal to the package. */
export interface EndpointSecret {
  id: string;
  name: string;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
}

/** Loads an endpoint with its raw URL. Never exported from the package. */
export async function loadEndpointSecret(db: DbLike, id: string): Promise<EndpointSecret | null> {
  if (!UUID.test(id)) return null;
  return prismaOf(db).webhookEndpoint.findUnique({
    where: { id },
    select: { id: true, name: true, url: true, enabled: true, disabledReason: true },
  });
}
