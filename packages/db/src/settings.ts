/**
 * Notification settings: one row, changed from the console or the admin API,
 * every change audited per field. Updating bumps `version` and the settings
 * trigger sends NOTIFY flipfix_settings with it, so workers reload within a
 * moment of the commit.
 */
import { z } from '@flipfix/config';
import { EVENT_TYPES, type EventType } from '@flipfix/events';
import { AppError } from './errors.ts';
import { Prisma, type PrismaClient, type Settings, type SettingsAudit } from './generated/prisma/client.ts';

export const DELIVERY_MODES = ['webhooks', 'both', 'bot'] as const;
export type DeliveryModeName = (typeof DELIVERY_MODES)[number];

/** Per event type: posted at all, and to which channel (null: the default channel). */
export interface EventSettings {
  enabled: boolean;
  channelId: string | null;
}

/** The settings every worker applies. */
export interface NotifySettings {
  deliveryMode: DeliveryModeName;
  /** Default channel; null until set (the worker then falls back to DISCORD_CHANNEL_ID). */
  channelId: string | null;
  /** Every event type is present. */
  events: Record<EventType, EventSettings>;
  threadsEnabled: boolean;
  /** Emoji the bot reacts with on a new post, per event type (at most 3). */
  reactions: Partial<Record<EventType, string[]>>;
  /** Role mentioned on unplayable problem reports. */
  unplayableRoleId: string | null;
  digest: { enabled: boolean; quietSeconds: number; maxSeconds: number };
  version: number;
  updatedAt: Date;
}

export const MAX_REACTIONS = 3;
export const DIGEST_LIMITS = { quietMin: 10, quietMax: 3600, maxMax: 86_400 } as const;

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord snowflake (17-20 digits)');

// A Unicode emoji (with modifiers, ZWJ sequences, flags, keycaps) or a custom emoji as Discord's
// reaction route takes it, `name:id` (`<:name:id>` / `<a:name:id>` accepted and normalized).
const UNICODE_EMOJI =
  /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200D|\uFE0F|\u20E3|[\u{E0020}-\u{E007F}])*$/u;
const CUSTOM_EMOJI = /^<?a?:?(\w{2,32}):(\d{17,20})>?$/;
const emoji = z
  .string()
  .max(64)
  .refine((s) => UNICODE_EMOJI.test(s) || CUSTOM_EMOJI.test(s), 'must be an emoji or a custom emoji name:id')
  .transform((s) => {
    const custom = UNICODE_EMOJI.test(s) ? null : CUSTOM_EMOJI.exec(s);
    return custom ? `${custom[1]}:${custom[2]}` : s;
  });

function perEventType<T extends z.ZodType>(schema: T) {
  return z.strictObject(
    Object.fromEntries(EVENT_TYPES.map((t) => [t, schema.optional()])) as Record<EventType, z.ZodOptional<T>>,
  );
}

/**
 * A settings PATCH body: every key optional, unknown keys rejected, nested
 * objects merged into the current settings by {@link updateSettings}.
 */
export const SettingsPatchSchema = z.strictObject({
  deliveryMode: z.enum(DELIVERY_MODES).optional(),
  channelId: snowflake.nullable().optional(),
  events: perEventType(
    z.strictObject({ enabled: z.boolean().optional(), channelId: snowflake.nullable().optional() }),
  ).optional(),
  threadsEnabled: z.boolean().optional(),
  reactions: perEventType(
    z
      .array(emoji)
      .max(MAX_REACTIONS, `at most ${MAX_REACTIONS} reactions`)
      .refine((list) => new Set(list).size === list.length, 'must not repeat an emoji'),
  ).optional(),
  unplayableRoleId: snowflake.nullable().optional(),
  digest: z
    .strictObject({
      enabled: z.boolean().optional(),
      quietSeconds: z.number().int().min(DIGEST_LIMITS.quietMin).max(DIGEST_LIMITS.quietMax).optional(),
      maxSeconds: z.number().int().min(DIGEST_LIMITS.quietMin).max(DIGEST_LIMITS.maxMax).optional(),
    })
    .refine((d) => d.quietSeconds === undefined || d.maxSeconds === undefined || d.quietSeconds <= d.maxSeconds, {
      message: 'must be at least quietSeconds',
      path: ['maxSeconds'],
    })
    .optional(),
});

/** A parsed settings patch. */
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/**
 * Parses a PATCH body, or throws an `invalid` {@link AppError} naming the
 * first bad field (dotted path, e.g. `digest.quietSeconds`).
 */
export function parseSettingsPatch(input: unknown): SettingsPatch {
  const result = SettingsPatchSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let path = issue?.path.join('.') ?? '';
  let message = issue?.message ?? 'invalid settings';
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    path = path === '' ? key : `${path}.${key}`;
    message = 'unknown setting';
  }
  throw new AppError('invalid', path === '' ? message : `${path}: ${message}`, { field: path || undefined });
}

function readEvents(value: unknown): Record<EventType, EventSettings> {
  const stored = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const out = {} as Record<EventType, EventSettings>;
  for (const type of EVENT_TYPES) {
    const entry = (stored[type] ?? {}) as { enabled?: unknown; channelId?: unknown };
    out[type] = {
      enabled: typeof entry.enabled === 'boolean' ? entry.enabled : true,
      channelId: typeof entry.channelId === 'string' ? entry.channelId : null,
    };
  }
  return out;
}

function readReactions(value: unknown): Partial<Record<EventType, string[]>> {
  const stored = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const out: Partial<Record<EventType, string[]>> = {};
  for (const type of EVENT_TYPES) {
    const list = stored[type];
    if (Array.isArray(list) && list.length > 0) out[type] = list.filter((e): e is string => typeof e === 'string');
  }
  return out;
}

/** The row as the app sees it: every event type present, defaults filled in. */
export function toNotifySettings(row: Settings): NotifySettings {
  return {
    deliveryMode: row.deliveryMode,
    channelId: row.channelId,
    events: readEvents(row.events),
    threadsEnabled: row.threadsEnabled,
    reactions: readReactions(row.reactions),
    unplayableRoleId: row.unplayableRoleId,
    digest: { enabled: row.digestEnabled, quietSeconds: row.digestQuietSeconds, maxSeconds: row.digestMaxSeconds },
    version: row.version,
    updatedAt: row.updatedAt,
  };
}

type Client = PrismaClient | Prisma.TransactionClient;

async function readRow(prisma: Client): Promise<Settings> {
  const row = await prisma.settings.findUnique({ where: { id: 1 } });
  if (row !== null) return row;
  // The migration seeds the row; recreate it if someone deleted it.
  await prisma.$executeRaw`INSERT INTO settings (id, updated_at) VALUES (1, CURRENT_TIMESTAMP) ON CONFLICT (id) DO NOTHING`;
  return prisma.settings.findUniqueOrThrow({ where: { id: 1 } });
}

/** The current settings. */
export async function getSettings(prisma: PrismaClient): Promise<NotifySettings> {
  return toNotifySettings(await readRow(prisma));
}

/** `patch` merged over `current` (nested objects merged, reaction lists replaced, `[]` clears). */
export function mergeSettings(current: NotifySettings, patch: SettingsPatch): NotifySettings {
  const events = { ...current.events };
  for (const type of EVENT_TYPES) {
    const p = patch.events?.[type];
    if (p === undefined) continue;
    events[type] = {
      enabled: p.enabled ?? events[type].enabled,
      channelId: p.channelId === undefined ? events[type].channelId : p.channelId,
    };
  }
  const reactions = { ...current.reactions };
  for (const type of EVENT_TYPES) {
    const list = patch.reactions?.[type];
    if (list === undefined) continue;
    if (list.length === 0) delete reactions[type];
    else reactions[type] = [...list];
  }
  return {
    ...current,
    deliveryMode: patch.deliveryMode ?? current.deliveryMode,
    channelId: patch.channelId === undefined ? current.channelId : patch.channelId,
    events,
    threadsEnabled: patch.threadsEnabled ?? current.threadsEnabled,
    reactions,
    unplayableRoleId: patch.unplayableRoleId === undefined ? current.unplayableRoleId : patch.unplayableRoleId,
    digest: {
      enabled: patch.digest?.enabled ?? current.digest.enabled,
      quietSeconds: patch.digest?.quietSeconds ?? current.digest.quietSeconds,
      maxSeconds: patch.digest?.maxSeconds ?? current.digest.maxSeconds,
    },
  };
}

/** Every auditable leaf, keyed by its dotted path. */
function leaves(s: NotifySettings): Map<string, unknown> {
  const out = new Map<string, unknown>([
    ['deliveryMode', s.deliveryMode],
    ['channelId', s.channelId],
    ['threadsEnabled', s.threadsEnabled],
    ['unplayableRoleId', s.unplayableRoleId],
    ['digest.enabled', s.digest.enabled],
    ['digest.quietSeconds', s.digest.quietSeconds],
    ['digest.maxSeconds', s.digest.maxSeconds],
  ]);
  for (const type of EVENT_TYPES) {
    out.set(`events.${type}.enabled`, s.events[type].enabled);
    out.set(`events.${type}.channelId`, s.events[type].channelId);
    out.set(`reactions.${type}`, s.reactions[type] ?? null);
  }
  return out;
}

/** One changed leaf. */
export interface SettingsChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** The leaves that differ between two settings values. */
export function diffSettings(before: NotifySettings, after: NotifySettings): SettingsChange[] {
  const a = leaves(after);
  const changes: SettingsChange[] = [];
  for (const [field, from] of leaves(before)) {
    const to = a.get(field);
    if (JSON.stringify(from) !== JSON.stringify(to)) changes.push({ field, from, to });
  }
  return changes;
}

function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}

/**
 * Merges `patch` into the settings, in one transaction that locks the row
 * (concurrent updates apply one after the other, none lost): bumps
 * `version`, writes one audit row per changed leaf and (by trigger) sends
 * NOTIFY flipfix_settings. A patch that changes nothing writes nothing and
 * returns the current settings. Invalid input throws an `invalid` {@link AppError}.
 */
export async function updateSettings(prisma: PrismaClient, patch: SettingsPatch, actor: string): Promise<NotifySettings> {
  const parsed = parseSettingsPatch(patch);
  return prisma.$transaction(async (tx) => {
    await readRow(tx);
    await tx.$queryRaw`SELECT id FROM settings WHERE id = 1 FOR UPDATE`;
    const before = toNotifySettings(await tx.settings.findUniqueOrThrow({ where: { id: 1 } }));
    const after = mergeSettings(before, parsed);
    if (after.digest.maxSeconds < after.digest.quietSeconds) {
      throw new AppError(
        'invalid',
        `digest.maxSeconds: must be at least digest.quietSeconds (${after.digest.quietSeconds})`,
        { field: patch.digest?.maxSeconds === undefined ? 'digest.quietSeconds' : 'digest.maxSeconds' },
      );
    }
    const changes = diffSettings(before, after);
    if (changes.length === 0) return before;
    const row = await tx.settings.update({
      where: { id: 1 },
      data: {
        deliveryMode: after.deliveryMode,
        channelId: after.channelId,
        events: after.events as unknown as Prisma.InputJsonObject,
        threadsEnabled: after.threadsEnabled,
        reactions: after.reactions as Prisma.InputJsonObject,
        unplayableRoleId: after.unplayableRoleId,
        digestEnabled: after.digest.enabled,
        digestQuietSeconds: after.digest.quietSeconds,
        digestMaxSeconds: after.digest.maxSeconds,
        version: { increment: 1 },
      },
    });
    await tx.settingsAudit.createMany({
      data: changes.map((c) => ({ actor, field: c.field, fromValue: json(c.from), toValue: json(c.to) })),
    });
    return toNotifySettings(row);
  });
}

/** Audit rows, newest first. */
export function listSettingsAudit(prisma: PrismaClient, limit = 100): Promise<SettingsAudit[]> {
  return prisma.settingsAudit.findMany({
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: Math.max(1, Math.min(1000, Math.trunc(limit))),
  });
}
