/**
 * Record links against our own tables: the {@link LinkLookup} that resolves
 * Flipfix's `[[kind:ref]]` markup to our records (one query per kind present,
 * whatever the number of links), and the save-time conversion of authored
 * links (`[[machine:slug]]`) to the stored form (`[[machine:id:N]]`).
 *
 * Our tables hold machines, problem reports, log entries, part requests and
 * their updates; `model`, `page` and `user` links name nothing here, so they
 * render as broken links (a Flipfix database's lookup resolves them).
 */
import { type LinkLookup, type LinkRef, type LinkTarget, linkKey, linkRefsIn, toStorageForm } from '@flipfix/events';
import { type DbLike, prismaOf } from './client.ts';
import { AppError } from './errors.ts';
import { MACHINE_SLUG_PATTERN } from './services/machines.ts';

/** Path of each record's page (served by the web app), relative to the base URL. */
export const RECORD_PATHS = {
  machine: (slug: string) => `/machines/${encodeURIComponent(slug)}`,
  problem_report: (id: number) => `/problem-reports/${id}`,
  log_entry: (id: number) => `/log-entries/${id}`,
  part_request: (id: number) => `/part-requests/${id}`,
  /** Updates are shown on their part request's page, as in Flipfix. */
  part_request_update: (id: number, partRequestId: number) => `/part-requests/${partRequestId}#update-${id}`,
} as const;

/**
 * Flipfix's `link_preview`: brackets removed, whitespace collapsed, the first
 * 30 characters and "..." when there was more. Part of a link's label.
 */
export function linkPreview(text: string, max = 30): string {
  const flat = text.replace(/[[\]]/g, '').split(/\s+/).filter((w) => w !== '').join(' ');
  const points = Array.from(flat);
  return points.length > max ? `${points.slice(0, max).join('')}...` : flat;
}

/** Flipfix's label: `<prefix>`, then `: <preview>` when the record has text. */
function labelled(prefix: string, text: string | null): string {
  return text ? `${prefix}: ${linkPreview(text)}` : prefix;
}

/**
 * The lookup for our own tables. `baseUrl` is prefixed to every URL: the
 * site's absolute URL for Discord, or '' for links within our pages.
 */
export function createRecordLinkLookup(db: DbLike, baseUrl: string): LinkLookup {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async resolveLinks(refs: readonly LinkRef[]): Promise<Map<string, LinkTarget>> {
      const prisma = prismaOf(db);
      const ids = (kind: LinkRef['kind']) => [...new Set(refs.filter((r) => r.kind === kind && 'id' in r && r.id > 0).map((r) => (r as { id: number }).id))];
      // Only what can be a slug is looked up (text may hold anything between the brackets).
      const slugs = [...new Set(refs.flatMap((r) => (r.kind === 'machine' && 'slug' in r && MACHINE_SLUG_PATTERN.test(r.slug) ? [r.slug] : [])))];
      const out = new Map<string, LinkTarget>();
      const put = (ref: LinkRef, target: LinkTarget) => out.set(linkKey(ref), target);
      const machineIds = ids('machine');
      const problemIds = ids('problem');
      const logIds = ids('log');
      const requestIds = ids('partrequest');
      const updateIds = ids('partrequestupdate');
      await Promise.all([
        machineIds.length + slugs.length === 0
          ? null
          : prisma.machine
              .findMany({ where: { OR: [{ id: { in: machineIds } }, { slug: { in: slugs } }] }, select: { id: true, name: true, slug: true } })
              .then((rows) => {
                for (const m of rows) {
                  const target = { id: m.id, label: m.name, url: base + RECORD_PATHS.machine(m.slug) };
                  put({ kind: 'machine', id: m.id }, target);
                  put({ kind: 'machine', slug: m.slug }, target);
                }
              }),
        problemIds.length === 0
          ? null
          : prisma.problemReport.findMany({ where: { id: { in: problemIds } }, select: { id: true, description: true } }).then((rows) => {
              for (const r of rows) put({ kind: 'problem', id: r.id }, { id: r.id, label: labelled(`Problem #${r.id}`, r.description), url: base + RECORD_PATHS.problem_report(r.id) });
            }),
        logIds.length === 0
          ? null
          : prisma.logEntry.findMany({ where: { id: { in: logIds } }, select: { id: true, text: true } }).then((rows) => {
              for (const e of rows) put({ kind: 'log', id: e.id }, { id: e.id, label: labelled(`Log #${e.id}`, e.text), url: base + RECORD_PATHS.log_entry(e.id) });
            }),
        requestIds.length === 0
          ? null
          : prisma.partRequest.findMany({ where: { id: { in: requestIds } }, select: { id: true, text: true } }).then((rows) => {
              for (const p of rows) {
                put({ kind: 'partrequest', id: p.id }, { id: p.id, label: labelled(`Part Request #${p.id}`, p.text), url: base + RECORD_PATHS.part_request(p.id) });
              }
            }),
        updateIds.length === 0
          ? null
          : prisma.partRequestUpdate.findMany({ where: { id: { in: updateIds } }, select: { id: true, partRequestId: true, text: true } }).then((rows) => {
              for (const u of rows) {
                put(
                  { kind: 'partrequestupdate', id: u.id },
                  { id: u.id, label: labelled(`Update #${u.id} on #${u.partRequestId}`, u.text), url: base + RECORD_PATHS.part_request_update(u.id, u.partRequestId) },
                );
              }
            }),
      ]);
      return out;
    },
  };
}

const KIND_NAMES: Record<string, string> = { machine: 'Machine', model: 'Model', page: 'Page', user: 'User' };

/**
 * `text` with authored links (`[[machine:slug]]`) in the stored form
 * (`[[machine:id:N]]`), as Flipfix saves them. A link to nothing is an
 * `invalid` error on `field`, in Flipfix's words: `Machine not found: [[machine:nope]]`.
 */
export async function storeLinks(db: DbLike, text: string, field: string): Promise<string> {
  const authored = linkRefsIn([text]).filter((r) => 'slug' in r);
  if (authored.length === 0) return text;
  const targets = Object.fromEntries(await createRecordLinkLookup(db, '').resolveLinks(authored));
  const stored = toStorageForm(text, targets);
  if (stored.missing.length > 0) {
    const message = stored.missing.map((m) => `${KIND_NAMES[m.slice(2, m.indexOf(':'))] ?? 'Record'} not found: ${m}`).join('; ');
    throw new AppError('invalid', message, { field });
  }
  return stored.text;
}
