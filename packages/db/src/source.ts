/**
 * Sources: where events come from and how the records behind them are read.
 *
 * A source owns three things that belong together because they all know the
 * app's tables: the capture (triggers writing our outbox, installed by its
 * migrations), the record loader that turns an event into a `PostSubject`,
 * and the record URLs (title links, 📎 lines, `[[kind:ref]]` link targets).
 * Everything after the outbox (relay, router, ledger, delivery, settings)
 * is the same for every source; it only runs in the source's schema.
 *
 * Two ship: `builtin` (our own tables, written by our web app) and `flipfix`
 * (an existing Flipfix database, `@flipfix/source-flipfix`).
 */
import type { EntityType, PostSubject } from '@flipfix/events';
import type { Db } from './client.ts';
import { DEFAULT_MIGRATIONS_DIR } from './migrate.ts';
import { loadPostSubjects, type PostSubjectRef, recordUrl } from './post-subject.ts';

/** The sources `SOURCE` may name. */
export const SOURCE_NAMES = ['builtin', 'flipfix'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/**
 * One `[[kind:…]]` link in record text (Flipfix's markup): by id (the stored
 * form, `[[machine:id:7]]`, `[[problem:11]]`) or by slug (the authored form of
 * slug kinds, `[[machine:attack-from-mars]]`).
 */
export type LinkRef = { kind: string; id: number } | { kind: string; slug: string };

/** What a link resolves to: the record's id, the label to show and the absolute URL of its page. */
export interface LinkTarget {
  id: number;
  label: string;
  url: string;
}

/** Kinds whose authored form is a slug: their stored form is `kind:id:N`. */
const SLUG_KINDS = new Set(['machine', 'model', 'page', 'user']);

/** The markup body naming `ref`, which keys lookup results: `machine:id:7`, `machine:attack-from-mars`, `problem:11`. */
export function linkKey(ref: LinkRef): string {
  if ('slug' in ref) return `${ref.kind}:${ref.slug}`;
  return SLUG_KINDS.has(ref.kind) ? `${ref.kind}:id:${ref.id}` : `${ref.kind}:${ref.id}`;
}

/** A source's records, read through one database handle with one base URL for links. */
export interface SourceRecords {
  /**
   * The records behind `refs`, fresh, in bulk (a query per record type, not
   * per event); aligned with `refs`, null where a record no longer exists.
   */
  loadPostSubjects(refs: readonly PostSubjectRef[]): Promise<(PostSubject | null)[]>;
  /** Absolute URL of a record's page. */
  recordUrl(entityType: EntityType, id: number): string;
  /**
   * Resolves links in bulk (one query per kind present); the result is keyed
   * by {@link linkKey}. Links naming nothing are absent from it.
   */
  resolveLinks(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>>;
}

/** A source: where our tables live, what installs its capture, and how its records are read. */
export interface Source {
  readonly name: SourceName;
  /** Postgres schema of our own tables (outbox, ledger, settings): pass to `createDb` and `migrate`. */
  readonly schema: string;
  /** Migration directories applied as one set by `npm run db:migrate`. */
  readonly migrationsDirs: readonly string[];
  /** The record reader for a database handle opened with {@link Source.schema}. */
  records(db: Db, baseUrl: string): SourceRecords;
}

/** Flipfix's id link kinds, as the built-in app's records. */
const BUILTIN_LINK_KINDS: Record<string, { entity: EntityType; label: string; table: string }> = {
  problem: { entity: 'problem_report', label: 'Problem', table: 'problem_reports' },
  log: { entity: 'log_entry', label: 'Log', table: 'log_entries' },
  partrequest: { entity: 'part_request', label: 'Part Request', table: 'part_requests' },
};

/** Our own app's tables: today's loader and pages, unchanged. */
export const builtinSource: Source = {
  name: 'builtin',
  schema: 'public',
  migrationsDirs: [DEFAULT_MIGRATIONS_DIR],
  records(db, baseUrl) {
    return {
      loadPostSubjects: (refs) => loadPostSubjects(db.prisma, refs, baseUrl),
      recordUrl: (entityType, id) => recordUrl(baseUrl, entityType, id),
      async resolveLinks(refs) {
        const found = new Map<string, LinkTarget>();
        await Promise.all(
          Object.entries(BUILTIN_LINK_KINDS).map(async ([kind, spec]) => {
            const ids = [...new Set(refs.flatMap((r) => (r.kind === kind && 'id' in r ? [r.id] : [])))];
            if (ids.length === 0) return;
            const { rows } = await db.pool.query<{ id: number }>(`SELECT id FROM ${spec.table} WHERE id = ANY($1::int[])`, [ids]);
            for (const { id } of rows) found.set(linkKey({ kind, id }), { id, label: `${spec.label} #${id}`, url: recordUrl(baseUrl, spec.entity, id) });
          }),
        );
        return found;
      },
    };
  },
};
