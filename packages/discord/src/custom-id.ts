/**
 * Button `custom_id`s: `<action>:<entity>:<id>`, e.g. `claim:problem_report:12`.
 * Discord echoes them back on every click, so parsing is strict: anything
 * not produced by {@link encodeCustomId} is rejected.
 */

/** Which actions exist on which entity. */
export const CUSTOM_ID_ACTIONS = {
  problem_report: ['claim', 'close', 'reopen'],
  part_request: ['ordered', 'received'],
} as const;

export type CustomIdEntity = keyof typeof CUSTOM_ID_ACTIONS;

/** A button action, typed so that an action only goes with its entity. */
export type CustomIdAction = {
  [E in CustomIdEntity]: { action: (typeof CUSTOM_ID_ACTIONS)[E][number]; entity: E; id: number };
}[CustomIdEntity];

/**
 * Record ids are Postgres `integer`s: a larger id names no record, and
 * passing one to a query fails inside the database instead of here.
 */
export const MAX_RECORD_ID = 2_147_483_647;

/** `claim:problem_report:12`. Throws on an id that is not a positive `integer` (1 … 2^31 − 1). */
export function encodeCustomId(value: CustomIdAction): string {
  if (!Number.isInteger(value.id) || value.id <= 0 || value.id > MAX_RECORD_ID) {
    throw new RangeError(`custom_id needs a record id between 1 and ${MAX_RECORD_ID}, got ${value.id}`);
  }
  const allowed: readonly string[] = CUSTOM_ID_ACTIONS[value.entity];
  if (!allowed.includes(value.action)) throw new RangeError(`no action ${value.action} on ${value.entity}`);
  return `${value.action}:${value.entity}:${value.id}`;
}

/** The action a `custom_id` encodes, or null for anything else (unknown pairs, bad ids, junk). */
export function parseCustomId(customId: unknown): CustomIdAction | null {
  if (typeof customId !== 'string' || customId.length > 100) return null;
  const m = /^([a-z]+):([a-z_]+):([1-9]\d{0,9})$/.exec(customId);
  if (!m) return null;
  const [, action, entity, rawId] = m as unknown as [string, string, string, string];
  const id = Number(rawId);
  if (id > MAX_RECORD_ID) return null;
  if (!Object.hasOwn(CUSTOM_ID_ACTIONS, entity)) return null;
  const allowed: readonly string[] = CUSTOM_ID_ACTIONS[entity as CustomIdEntity];
  if (!allowed.includes(action)) return null;
  return { action, entity, id } as CustomIdAction;
}
