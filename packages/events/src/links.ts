/**
 * Flipfix's record-link markup, as its `core/markdown_links.py` defines it:
 *
 * - slug kinds (`machine`, `model`, `page`, `user`) are authored as
 *   `[[machine:attack-from-mars]]` and stored as `[[machine:id:7]]`;
 * - id kinds (`problem`, `log`, `partrequest`, `partrequestupdate`) are
 *   `[[problem:11]]` in both.
 *
 * This module only knows the grammar. What a link points at comes from a
 * {@link LinkLookup}, which resolves every link of a message (or a page, or a
 * batch of posts) in one call, so rendering costs one query per link kind,
 * never one per link; our own tables have one lookup (`@flipfix/db`), a
 * Flipfix database can have another. Renderers (Discord Markdown, HTML) take
 * the resolved {@link LinkTargets} and stay synchronous.
 */

/** Kinds authored by slug (or path) and stored by id. */
export const SLUG_LINK_KINDS = ['machine', 'model', 'page', 'user'] as const;
/** Kinds that are an id in both forms. */
export const ID_LINK_KINDS = ['problem', 'log', 'partrequest', 'partrequestupdate'] as const;

export type SlugLinkKind = (typeof SLUG_LINK_KINDS)[number];
export type IdLinkKind = (typeof ID_LINK_KINDS)[number];
export type LinkKind = SlugLinkKind | IdLinkKind;

/** One link's target: by id (stored form, id kinds) or by slug (authoring form of slug kinds). */
export type LinkRef = { kind: LinkKind; id: number } | { kind: SlugLinkKind; slug: string };

/** A link found in a text: what it refers to, its key and where it sits. */
export interface LinkMatch {
  ref: LinkRef;
  /** {@link linkKey} of `ref`. */
  key: string;
  start: number;
  end: number;
}

/** What a resolved link shows: the record's id, its display name and the absolute URL of its page. */
export interface LinkTarget {
  id: number;
  label: string;
  url: string;
}

/** Resolved targets by {@link linkKey}; a key that is absent is a link to nothing (a broken link). */
export type LinkTargets = Readonly<Record<string, LinkTarget>>;

/**
 * Resolves many link targets at once. Implementations answer with one query
 * per kind present, whatever the number of links, and leave out the refs that
 * name no record.
 */
export interface LinkLookup {
  resolveLinks(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>>;
}

const KINDS: readonly string[] = [...SLUG_LINK_KINDS, ...ID_LINK_KINDS];
// Bounded parts keep the scan linear on hostile input; a reference longer than 200 characters is not a link.
const MARKUP = /\[\[([a-z]{1,20}):([^\]\n]{1,200})\]\]/g;
/** Larger ids name no row of any table (Postgres `integer`), so they are broken links, not numbers to round. */
const MAX_ID = 2_147_483_647;

function isSlugKind(kind: LinkKind): kind is SlugLinkKind {
  return (SLUG_LINK_KINDS as readonly string[]).includes(kind);
}

function idOf(digits: string): number {
  const n = Number(digits);
  return Number.isSafeInteger(n) && n <= MAX_ID ? n : 0;
}

/** The markup body naming `ref`, which is also its key: `machine:id:7`, `machine:attack-from-mars`, `problem:11`. */
export function linkKey(ref: LinkRef): string {
  if ('slug' in ref) return `${ref.kind}:${ref.slug}`;
  return isSlugKind(ref.kind) ? `${ref.kind}:id:${ref.id}` : `${ref.kind}:${ref.id}`;
}

/** The ref a `[[kind:body]]` names, or null when it is not Flipfix markup (unknown kind, id kind with a non-number). */
function refOf(kind: string, body: string): LinkRef | null {
  if (!KINDS.includes(kind)) return null;
  const k = kind as LinkKind;
  if (isSlugKind(k)) {
    const stored = /^id:(\d+)$/.exec(body);
    if (stored) return { kind: k, id: idOf(stored[1]!) };
    // `id:` followed by anything else is neither form (as in Flipfix).
    return body.startsWith('id:') ? null : { kind: k, slug: body };
  }
  return /^\d+$/.test(body) ? { kind: k, id: idOf(body) } : null;
}

/** Every link in `text`, in order. */
export function findLinks(text: string): LinkMatch[] {
  const out: LinkMatch[] = [];
  for (const m of text.matchAll(MARKUP)) {
    const ref = refOf(m[1]!, m[2]!);
    if (ref !== null) out.push({ ref, key: linkKey(ref), start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** The distinct refs of all `texts`. */
export function linkRefsIn(texts: readonly string[]): LinkRef[] {
  const refs = new Map<string, LinkRef>();
  for (const text of texts) for (const m of findLinks(text)) refs.set(m.key, m.ref);
  return [...refs.values()];
}

/** Resolves every link in `texts` with one call to `lookup` (none when there is no link). */
export async function resolveLinksIn(lookup: LinkLookup, texts: readonly string[]): Promise<LinkTargets> {
  const refs = linkRefsIn(texts);
  if (refs.length === 0) return {};
  return Object.fromEntries(await lookup.resolveLinks(refs));
}

/**
 * `text` with every link replaced by what `render` makes of it, given the
 * resolved `targets`: `render` receives the target, or undefined when the
 * link names no record.
 */
export function renderLinksWith(text: string, targets: LinkTargets, render: (target: LinkTarget | undefined, match: LinkMatch) => string): string {
  const matches = findLinks(text);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + render(Object.hasOwn(targets, m.key) ? targets[m.key] : undefined, m);
    at = m.end;
  }
  return out + text.slice(at);
}

/** Result of {@link toStorageForm}. */
export interface StorageForm {
  text: string;
  /** Authoring-form links whose target does not exist, as written (`[[machine:nope]]`). */
  missing: string[];
}

/**
 * Converts authoring-form links (`[[machine:slug]]`) to the stored form
 * (`[[machine:id:N]]`), as Flipfix does on save. Links already stored, and id
 * kinds, are left as they are; a slug that names nothing is reported in
 * `missing` and left unchanged.
 */
export function toStorageForm(text: string, targets: LinkTargets): StorageForm {
  const missing: string[] = [];
  let out = '';
  let at = 0;
  for (const m of findLinks(text)) {
    if (!('slug' in m.ref)) continue;
    const target = targets[m.key];
    out += text.slice(at, m.start);
    if (target === undefined) {
      missing.push(`[[${m.key}]]`);
      out += text.slice(m.start, m.end);
    } else {
      out += `[[${m.ref.kind}:id:${target.id}]]`;
    }
    at = m.end;
  }
  return { text: out + text.slice(at), missing };
}
