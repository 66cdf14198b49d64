/**
 * Discord's error bodies: `{message, code}` for JSON errors and
 * `{message: 'Invalid Form Body', code: 50035, errors: {...}}` with the nested
 * `_errors` tree for validation failures.
 */

/** One leaf of Discord's nested form-error tree. */
export interface FormErrorLeaf {
  code: string;
  message: string;
}

/** Discord's nested errors object: keys are field names or array indexes; leaves sit under `_errors`. */
export type FormErrorTree = { _errors?: FormErrorLeaf[] } & { [key: string]: FormErrorTree | FormErrorLeaf[] | undefined };

/** An error answered the way Discord answers it. */
export class DiscordError extends Error {
  override name = 'DiscordError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FormErrorTree,
  ) {
    super(message);
  }

  /** The JSON body Discord sends for this error. */
  toBody(): Record<string, unknown> {
    return this.errors === undefined
      ? { message: this.message, code: this.code }
      : { message: this.message, code: this.code, errors: this.errors };
  }
}

/** Collects field errors under their paths, then becomes one 50035 error. */
export class FormErrors {
  readonly tree: FormErrorTree = {};
  private count = 0;

  add(path: readonly (string | number)[], code: string, message: string): void {
    let node: FormErrorTree = this.tree;
    for (const part of path) {
      const key = String(part);
      let next = node[key];
      if (next === undefined || Array.isArray(next)) {
        next = {};
        node[key] = next;
      }
      node = next;
    }
    node._errors ??= [];
    node._errors.push({ code, message });
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Throws the Invalid Form Body error when any field failed. */
  throwIfAny(): void {
    if (this.count > 0) throw new DiscordError(400, 50035, 'Invalid Form Body', this.tree);
  }
}

/** The JSON errors the simulator answers, with Discord's codes and messages. */
export const ApiErrors = {
  unauthorized: () => new DiscordError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordError(404, 0, '404: Not Found'),
  methodNotAllowed: () => new DiscordError(405, 0, '405: Method Not Allowed'),
  unknownGuild: () => new DiscordError(404, 10004, 'Unknown Guild'),
  unknownChannel: () => new DiscordError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new DiscordError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => new DiscordError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => new DiscordError(404, 10062, 'Unknown interaction'),
  unknownEmoji: () => new DiscordError(400, 10014, 'Unknown Emoji'),
  missingAccess: () => new DiscordError(403, 50001, 'Missing Access'),
  cannotEditOthers: () => new DiscordError(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new DiscordError(400, 50006, 'Cannot send an empty message'),
  missingPermissions: () => new DiscordError(403, 50013, 'Missing Permissions'),
  invalidWebhookToken: () => new DiscordError(401, 50027, 'Invalid Webhook Token'),
  threadArchived: () => new DiscordError(400, 50083, 'Thread is archived'),
  tooManyOldMessageEdits: () => new DiscordError(400, 30046, 'Maximum number of edits to messages older than 1 hour reached. Try again later'),
  invalidJson: () => new DiscordError(400, 50109, 'The request body contains invalid JSON.'),
  threadAlreadyCreated: () => new DiscordError(400, 160004, 'A thread has already been created for this message'),
} as const;
