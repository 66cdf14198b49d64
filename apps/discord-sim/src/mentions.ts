/**
 * Which mentions in a message would ping, the way Discord decides it from the
 * content and `allowed_mentions`.
 */
import type { AllowedMentions } from './validate';

/** The mentions Discord stores on a message. */
export interface ComputedMentions {
  mention_everyone: boolean;
  /** User ids that are pinged. */
  users: string[];
  /** Role ids that are pinged. */
  roles: string[];
}

const USER = /<@!?(\d{17,20})>/g;
const ROLE = /<@&(\d{17,20})>/g;
const EVERYONE = /@(everyone|here)/;

/**
 * Without `allowed_mentions` everything in the content pings. With it, a type
 * pings only when listed in `parse`, or for the ids listed in `users`/`roles`
 * that the content also mentions. The `mentions` array of a Discord message
 * then lists only the users who were actually pinged.
 */
export function computeMentions(content: string | undefined, allowed: AllowedMentions | undefined): ComputedMentions {
  const text = content ?? '';
  const users = unique(text.matchAll(USER));
  const roles = unique(text.matchAll(ROLE));
  const everyone = EVERYONE.test(text);
  if (allowed === undefined) return { mention_everyone: everyone, users, roles };
  const parse = new Set(allowed.parse ?? []);
  const allowUsers = new Set(allowed.users ?? []);
  const allowRoles = new Set(allowed.roles ?? []);
  return {
    mention_everyone: everyone && parse.has('everyone'),
    users: users.filter((id) => parse.has('users') || allowUsers.has(id)),
    roles: roles.filter((id) => parse.has('roles') || allowRoles.has(id)),
  };
}

function unique(matches: IterableIterator<RegExpMatchArray>): string[] {
  const out = new Set<string>();
  for (const m of matches) if (m[1] !== undefined) out.add(m[1]);
  return [...out];
}
