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
import type { EntityType, LinkRef, LinkTarget, PostSubject } from '@flipfix/events';
import type { Db } from './client.ts';
import { DEFAULT_MIGRATIONS_DIR } from './migrate.ts';
import { createRecordLinkLookup } from './links.ts';
import { loadPostSubjects, type PostSubjectRef } from './post-subject.ts';

/** The sources `SOURCE` may name. */
export const SOURCE_NAMES = ['builtin', 'flipfix'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

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
   * by `linkKey` (@flipfix/events). Links naming nothing are absent from it.
   */
  resolveLinks(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>>;
  /**
   * Whether posts carry action buttons (Claim, Close, Mark ordered, …). They
   * change the record through our interactions endpoint, which only the
   * built-in app serves: a source whose records we only read shows none.
   */
  readonly actions: boolean;
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

/** Our web app's record pages (served by apps/web), relative to the base URL. */
const BUILTIN_PAGES: Record<EntityType, string> = {
  problem_report: '/problem-reports',
  log_entry: '/log-entries',
  part_request: '/part-requests',
  part_request_update: '/part-request-updates',
};

/** Our own app's tables: today's loader, pages and link lookup, unchanged. */
export const builtinSource: Source = {
  name: 'builtin',
  schema: 'public',
  migrationsDirs: [DEFAULT_MIGRATIONS_DIR],
  records(db, baseUrl) {
    const base = baseUrl.replace(/\/+$/, '');
    return {
      loadPostSubjects: (refs) => loadPostSubjects(db.prisma, refs, baseUrl),
      recordUrl: (entityType, id) => `${base}${BUILTIN_PAGES[entityType]}/${id}`,
      resolveLinks: createRecordLinkLookup(db, baseUrl).resolveLinks,
      actions: true,
    };
  },
};
