/**
 * Reads Flipfix's records (its Django tables, schema public) into the
 * `PostSubject`s our formatter consumes, in bulk: one query per record type
 * with joins and correlated arrays, whatever the number of events. What each
 * field holds follows Flipfix's own webhook handlers (flipfix/apps/discord/
 * webhook_handlers/*.py): who is named, which photos, which page the title
 * links to.
 */
import { type Db, linkPreview, type PostSubjectRef, type SourceRecords } from '@flipfix/db';
import {
  type EntityType,
  type LinkedRecord,
  type LinkKind,
  type LinkRef,
  type LinkTarget,
  linkKey,
  type MachineRef,
  PART_REQUEST_STATUSES,
  type PartRequestStatus,
  PRIORITIES,
  PROBLEM_REPORT_STATUSES,
  PROBLEM_TYPE_LABELS,
  PROBLEM_TYPES,
  type PostSubject,
  type Priority,
  type ProblemReportStatus,
  type ProblemType,
  resolveSubjectLinks,
  type SlugLinkKind,
} from '@flipfix/events';
import { FLIPFIX_MEDIA_URL, FLIPFIX_PATHS, flipfixRecordPath, mediaUrl } from './pages.ts';

export interface FlipfixRecordsOptions {
  /** Flipfix's `SITE_URL`: the base of every link (our APP_BASE_URL). */
  baseUrl: string;
  /** Flipfix's `MEDIA_URL` when not `/media/` (e.g. a CDN). */
  mediaUrl?: string | undefined;
}

/**
 * A maintainer's name as Flipfix's `get_maintainer_display_name` gives it:
 * the linked Discord display name, else the Discord username, else the
 * user's full name, else the username. `l` is the DiscordUserLink, `u` the user.
 */
function maintainerName(l: string, u: string): string {
  return `COALESCE(NULLIF(${l}.discord_display_name, ''), NULLIF(${l}.discord_username, ''),
                   NULLIF(btrim(${u}.first_name || ' ' || ${u}.last_name), ''), ${u}.username)`;
}

/**
 * Who requested or posted (Flipfix's requester_display / poster_display with
 * the Discord name first): the maintainer in `maintainerColumn` by name, else
 * the typed `nameColumn`. Selects `AS person`; joined by its `joins`.
 */
function person(maintainerColumn: string, nameColumn: string): { select: string; joins: string } {
  return {
    select: `CASE WHEN mt.id IS NULL THEN NULLIF(${nameColumn}, '') ELSE ${maintainerName('l', 'u')} END AS person`,
    joins: `LEFT JOIN public.accounts_maintainer mt ON mt.id = ${maintainerColumn}
           LEFT JOIN public.auth_user u ON u.id = mt.user_id
           LEFT JOIN public.discord_discorduserlink l ON l.maintainer_id = mt.id`,
  };
}

/** A Django user's `get_full_name() or get_username()`. */
function userName(u: string): string {
  return `COALESCE(NULLIF(btrim(${u}.first_name || ' ' || ${u}.last_name), ''), ${u}.username)`;
}

/** Up to 4 photo thumbnails of a record, in Flipfix's order (display_order, then created_at). */
function photos(table: string, parentColumn: string, parent: string): string {
  return `ARRAY(SELECT ph.thumbnail_file FROM public.${table} ph
                 WHERE ph.${parentColumn} = ${parent} AND ph.media_type = 'photo' AND ph.thumbnail_file > ''
                 ORDER BY ph.display_order ASC, ph.created_at ASC LIMIT 4)`;
}

const MACHINE_COLUMNS = 'm.id AS machine_id, m.name AS machine_name, m.short_name AS machine_short_name';

interface MachineColumns {
  machine_id: string | null;
  machine_name: string | null;
  machine_short_name: string | null;
}

function machineOf(row: MachineColumns): MachineRef | null {
  if (row.machine_id === null || row.machine_name === null) return null;
  return { id: Number(row.machine_id), name: row.machine_name, shortName: row.machine_short_name || null };
}

function oneOf<T extends string>(values: readonly T[], value: string, fallback: T): T {
  return (values as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** The lead of a 📎 line about a problem report: its type label, none for "Other" (as Flipfix's excerpt). */
function problemLead(problemType: string): string | null {
  const type = oneOf<ProblemType>(PROBLEM_TYPES, problemType, 'other');
  return type === 'other' ? null : PROBLEM_TYPE_LABELS[type];
}

/** The record reader of a Flipfix database. */
export function flipfixRecords(db: Db, options: FlipfixRecordsOptions): SourceRecords {
  const base = options.baseUrl.replace(/\/+$/, '');
  const media = options.mediaUrl ?? FLIPFIX_MEDIA_URL;
  const page = (path: string) => `${base}${path}`;
  const photoUrls = (names: string[]) => names.map((n) => mediaUrl(base, media, n));
  const query = async <R extends object>(sql: string, ids: number[]): Promise<R[]> =>
    ids.length === 0 ? [] : (await db.pool.query<R>(sql, [ids])).rows;

  async function loadPostSubjects(refs: readonly PostSubjectRef[]): Promise<(PostSubject | null)[]> {
    const idsOf = (entity: EntityType) => [...new Set(refs.filter((r) => r.entityType === entity).map((r) => r.entityId))];
    const byKey = new Map<string, PostSubject>();
    const put = (subject: PostSubject) => byKey.set(`${subject.kind}:${subject.id}`, subject);

    const requester = person('p.requested_by_id', 'p.requested_by_name');
    const poster = person('pu.posted_by_id', 'pu.posted_by_name');
    const [reports, entries, requests, updates] = await Promise.all([
      query<
        MachineColumns & {
          id: string;
          status: string;
          problem_type: string;
          priority: string;
          description: string;
          reported_by_name: string;
          reported_by_contact: string;
          user_name: string | null;
          created_at: Date;
          photos: string[];
        }
      >(
        `SELECT pr.id, pr.status, pr.problem_type, pr.priority, pr.description, pr.reported_by_name,
                pr.reported_by_contact, pr.created_at, ${MACHINE_COLUMNS},
                CASE WHEN u.id IS NULL THEN NULL ELSE ${userName('u')} END AS user_name,
                ${photos('maintenance_problemreportmedia', 'problem_report_id', 'pr.id')} AS photos
           FROM public.maintenance_problemreport pr
           JOIN public.catalog_machineinstance m ON m.id = pr.machine_id
           LEFT JOIN public.auth_user u ON u.id = pr.reported_by_user_id
          WHERE pr.id = ANY($1::bigint[])`,
        idsOf('problem_report'),
      ),
      query<
        MachineColumns & {
          id: string;
          text: string;
          maintainer_names: string;
          maintainers: string[];
          creator_name: string | null;
          created_at: Date;
          pr_id: string | null;
          pr_problem_type: string | null;
          pr_description: string | null;
          photos: string[];
        }
      >(
        `SELECT e.id, e.text, e.maintainer_names, e.created_at, ${MACHINE_COLUMNS},
                ARRAY(SELECT ${maintainerName('l', 'u')}
                        FROM public.maintenance_logentry_maintainers lm
                        JOIN public.accounts_maintainer mt ON mt.id = lm.maintainer_id
                        JOIN public.auth_user u ON u.id = mt.user_id
                        LEFT JOIN public.discord_discorduserlink l ON l.maintainer_id = mt.id
                       WHERE lm.logentry_id = e.id
                       ORDER BY u.username) AS maintainers,
                CASE WHEN cu.id IS NULL THEN NULL
                     WHEN cm.id IS NULL THEN ${userName('cu')}
                     ELSE ${maintainerName('cl', 'cu')} END AS creator_name,
                pr.id AS pr_id, pr.problem_type AS pr_problem_type, pr.description AS pr_description,
                ${photos('maintenance_logentrymedia', 'log_entry_id', 'e.id')} AS photos
           FROM public.maintenance_logentry e
           JOIN public.catalog_machineinstance m ON m.id = e.machine_id
           LEFT JOIN public.maintenance_problemreport pr ON pr.id = e.problem_report_id
           LEFT JOIN public.auth_user cu ON cu.id = e.created_by_id
           LEFT JOIN public.accounts_maintainer cm ON cm.user_id = cu.id
           LEFT JOIN public.discord_discorduserlink cl ON cl.maintainer_id = cm.id
          WHERE e.id = ANY($1::bigint[])`,
        idsOf('log_entry'),
      ),
      query<
        MachineColumns & {
          id: string;
          text: string;
          status: string;
          person: string | null;
          created_at: Date;
          photos: string[];
        }
      >(
        `SELECT p.id, p.text, p.status, p.created_at, ${MACHINE_COLUMNS},
                ${requester.select},
                ${photos('parts_partrequestmedia', 'part_request_id', 'p.id')} AS photos
           FROM public.parts_partrequest p
           LEFT JOIN public.catalog_machineinstance m ON m.id = p.machine_id
           ${requester.joins}
          WHERE p.id = ANY($1::bigint[])`,
        idsOf('part_request'),
      ),
      query<
        MachineColumns & {
          id: string;
          text: string;
          new_status: string;
          person: string | null;
          created_at: Date;
          request_id: string;
          request_text: string;
          request_status: string;
          photos: string[];
        }
      >(
        `SELECT pu.id, pu.text, pu.new_status, pu.created_at, ${MACHINE_COLUMNS},
                ${poster.select},
                p.id AS request_id, p.text AS request_text, p.status AS request_status,
                ${photos('parts_partrequestupdatemedia', 'update_id', 'pu.id')} AS photos
           FROM public.parts_partrequestupdate pu
           JOIN public.parts_partrequest p ON p.id = pu.part_request_id
           LEFT JOIN public.catalog_machineinstance m ON m.id = p.machine_id
           ${poster.joins}
          WHERE pu.id = ANY($1::bigint[])`,
        idsOf('part_request_update'),
      ),
    ]);

    for (const r of reports) {
      const id = Number(r.id);
      put({
        kind: 'problem_report',
        id,
        url: page(FLIPFIX_PATHS.problemReport(id)),
        photoUrls: photoUrls(r.photos),
        createdAt: r.created_at,
        links: {},
        machine: machineOf(r)!,
        status: oneOf<ProblemReportStatus>(PROBLEM_REPORT_STATUSES, r.status, 'open'),
        problemType: oneOf<ProblemType>(PROBLEM_TYPES, r.problem_type, 'other'),
        priority: oneOf<Priority>(PRIORITIES, r.priority, 'untriaged'),
        description: r.description,
        // Flipfix's reporter_display: the typed name, else the reporting user, else the contact.
        reporterName: r.reported_by_name.trim() || r.user_name || null,
        reporterContact: r.reported_by_contact.trim() || null,
        claimedByName: null,
      });
    }
    for (const e of entries) {
      const id = Number(e.id);
      // Flipfix: the maintainers (Discord names first), then the free-text names, else the creator.
      const names = [...e.maintainers];
      if (e.maintainer_names.trim() !== '') names.push(e.maintainer_names.trim());
      if (names.length === 0 && e.creator_name !== null) names.push(e.creator_name);
      const problemReport: LinkedRecord | null =
        e.pr_id === null
          ? null
          : {
              label: `Problem Report #${e.pr_id}`,
              url: page(FLIPFIX_PATHS.problemReport(Number(e.pr_id))),
              lead: problemLead(e.pr_problem_type ?? 'other'),
              text: e.pr_description ?? '',
            };
      put({
        kind: 'log_entry',
        id,
        url: page(FLIPFIX_PATHS.logEntry(id)),
        photoUrls: photoUrls(e.photos),
        createdAt: e.created_at,
        links: {},
        machine: machineOf(e)!,
        text: e.text,
        maintainerNames: names,
        problemReport,
      });
    }
    for (const p of requests) {
      const id = Number(p.id);
      put({
        kind: 'part_request',
        id,
        url: page(FLIPFIX_PATHS.partRequest(id)),
        photoUrls: photoUrls(p.photos),
        createdAt: p.created_at,
        links: {},
        machine: machineOf(p),
        text: p.text,
        status: oneOf<PartRequestStatus>(PART_REQUEST_STATUSES, p.status, 'requested'),
        requestedByName: p.person,
      });
    }
    for (const u of updates) {
      const id = Number(u.id);
      const requestId = Number(u.request_id);
      // Flipfix links an update's post to its part request's page (the update has no page of its own there).
      const requestUrl = page(FLIPFIX_PATHS.partRequest(requestId));
      put({
        kind: 'part_request_update',
        id,
        url: requestUrl,
        photoUrls: photoUrls(u.photos),
        createdAt: u.created_at,
        links: {},
        partRequestId: requestId,
        machine: machineOf(u),
        text: u.text,
        newStatus: u.new_status === '' ? null : oneOf<PartRequestStatus>(PART_REQUEST_STATUSES, u.new_status, 'requested'),
        requestStatus: oneOf<PartRequestStatus>(PART_REQUEST_STATUSES, u.request_status, 'requested'),
        postedByName: u.person,
        partRequest: { label: `Parts Request #${requestId}`, url: requestUrl, lead: null, text: u.request_text },
      });
    }
    // Flipfix's markup in the texts, resolved against Flipfix's own records in one bulk lookup.
    await resolveSubjectLinks({ resolveLinks }, [...byKey.values()]);
    return refs.map((r) => byKey.get(`${r.entityType}:${r.entityId}`) ?? null);
  }

  async function resolveLinks(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>> {
    const found = new Map<string, LinkTarget>();
    const idsOf = (kind: LinkRef['kind']) => [...new Set(refs.flatMap((r) => (r.kind === kind && 'id' in r && r.id > 0 ? [r.id] : [])))];
    const slugsOf = (kind: LinkRef['kind']) => [...new Set(refs.flatMap((r) => (r.kind === kind && 'slug' in r ? [r.slug] : [])))];
    const put = (kind: LinkKind, target: LinkTarget) => found.set(linkKey({ kind, id: target.id }), target);
    const putSlug = (kind: SlugLinkKind, target: LinkTarget, slug: string) => {
      put(kind, target);
      found.set(linkKey({ kind, slug }), target);
    };
    const lookups: Promise<void>[] = [];
    // Flipfix's link types (flipfix/apps/*/apps.py): machine and model by slug
    // or stored id (label: the name), the records by id (label: "Problem #N: preview").
    for (const [kind, table, path] of [
      ['machine', 'catalog_machineinstance', FLIPFIX_PATHS.machine],
      ['model', 'catalog_machinemodel', FLIPFIX_PATHS.machineModel],
    ] as const) {
      const ids = idsOf(kind);
      const slugs = slugsOf(kind);
      if (ids.length + slugs.length === 0) continue;
      lookups.push(
        db.pool
          .query<{ id: string; slug: string; name: string }>(`SELECT id, slug, name FROM public.${table} WHERE id = ANY($1::bigint[]) OR slug = ANY($2::text[])`, [
            ids,
            slugs,
          ])
          .then(({ rows }) => {
            for (const row of rows) putSlug(kind, { id: Number(row.id), label: row.name, url: page(path(row.slug)) }, row.slug);
          }),
      );
    }
    const records = [
      ['problem', 'SELECT id, description AS text, NULL AS parent FROM public.maintenance_problemreport', 'Problem'],
      ['log', 'SELECT id, text, NULL AS parent FROM public.maintenance_logentry', 'Log'],
      ['partrequest', 'SELECT id, text, NULL AS parent FROM public.parts_partrequest', 'Part Request'],
      ['partrequestupdate', 'SELECT id, text, part_request_id AS parent FROM public.parts_partrequestupdate', 'Update'],
    ] as const;
    for (const [kind, select, label] of records) {
      const ids = idsOf(kind);
      if (ids.length === 0) continue;
      lookups.push(
        db.pool.query<{ id: string; text: string; parent: string | null }>(`${select} WHERE id = ANY($1::bigint[])`, [ids]).then(({ rows }) => {
          for (const row of rows) {
            const id = Number(row.id);
            const head = row.parent === null ? `${label} #${id}` : `${label} #${id} on #${row.parent}`;
            const path =
              kind === 'problem'
                ? FLIPFIX_PATHS.problemReport(id)
                : kind === 'log'
                  ? FLIPFIX_PATHS.logEntry(id)
                  : FLIPFIX_PATHS.partRequest(row.parent === null ? id : Number(row.parent));
            put(kind, { id, label: row.text.trim() === '' ? head : `${head}: ${linkPreview(row.text)}`, url: page(path) });
          }
        }),
      );
    }
    await Promise.all(lookups);
    return found;
  }

  return {
    loadPostSubjects,
    recordUrl: (entityType, id) => page(flipfixRecordPath(entityType, id)),
    resolveLinks,
    // Flipfix's records are changed in Flipfix: no Claim/Close buttons that nothing here could serve.
    actions: false,
  };
}
