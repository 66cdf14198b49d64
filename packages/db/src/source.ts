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

/** One `[[kind:ref]]` reference found in record text (kind lower-cased, ref trimmed). */
export interface LinkRef {
  kind: string;
  ref: string;
}

/** What a link reference resolves to: the label to show and the absolute URL of the page. */
export interface LinkTarget {
  label: string;
  url: string;
}

/** The key of a {@link LinkRef} in a lookup result: `kind:ref`. */
export function linkKey(ref: LinkRef): string {
  return `${ref.kind}:${ref.ref}`;
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
   * Resolves link references in bulk (one query per kind); the result is keyed
   * by {@link linkKey}. References naming nothing are absent from it.
   */
  lookupLinkTargets(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>>;
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

/** Link kinds of the built-in app's records (`_` is accepted for `-`). */
const BUILTIN_LINK_KINDS: Record<string, { entity: EntityType; label: string; table: string }> = {
  'problem-report': { entity: 'problem_report', label: 'Problem report', table: 'problem_reports' },
  'log-entry': { entity: 'log_entry', label: 'Log entry', table: 'log_entries' },
  'part-request': { entity: 'part_request', label: 'Part request', table: 'part_requests' },
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
      async lookupLinkTargets(refs) {
        const found = new Map<string, LinkTarget>();
        const byKind = new Map<string, Set<number>>();
        for (const r of refs) {
          const kind = r.kind.replaceAll('_', '-');
          if (BUILTIN_LINK_KINDS[kind] === undefined || !/^[1-9]\d{0,9}$/.test(r.ref)) continue;
          const ids = byKind.get(kind) ?? new Set<number>();
          ids.add(Number(r.ref));
          byKind.set(kind, ids);
        }
        await Promise.all(
          [...byKind].map(async ([kind, ids]) => {
            const spec = BUILTIN_LINK_KINDS[kind]!;
            const { rows } = await db.pool.query<{ id: number }>(`SELECT id FROM ${spec.table} WHERE id = ANY($1::int[])`, [[...ids]]);
            for (const { id } of rows) {
              const target = { label: `${spec.label} #${id}`, url: recordUrl(baseUrl, spec.entity, id) };
              for (const r of refs) if (r.kind.replaceAll('_', '-') === kind && Number(r.ref) === id) found.set(linkKey(r), target);
            }
          }),
        );
        return found;
      },
    };
  },
};
