/**
 * Record lists as people page through them: a search box, a status filter and
 * keyset ("cursor") pages, newest first. The cursor is the last id shown, so
 * a page stays correct while new records arrive, and every link carries the
 * search and filter along.
 */
import { z } from '@flipfix/config';
import { type Html, html } from './html';

/** Rows per list page. */
export const PAGE_SIZE = 25;

/** `?q=&status=&before=` of a list page; a value that makes no sense is ignored, never an error page. */
export const ListPageQuery = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  status: z.string().max(40).optional().catch(undefined),
  before: z.coerce.number().int().min(1).max(2_147_483_647).optional().catch(undefined),
});
export type ListPageQuery = z.infer<typeof ListPageQuery>;

/** Splits a fetch of `PAGE_SIZE + 1` rows into the page and the cursor of the next one. */
export function pageOf<T extends { id: number }>(rows: readonly T[]): { rows: T[]; next: number | null } {
  const page = rows.slice(0, PAGE_SIZE);
  return { rows: page, next: rows.length > PAGE_SIZE ? (page[page.length - 1]?.id ?? null) : null };
}

/** A query string of the non-empty values, `?` included (or nothing). */
export function queryString(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

interface ControlsOptions {
  /** The list's own path, e.g. `/problem-reports`. */
  path: string;
  /** What the search looks in, for the placeholder. */
  searchHint: string;
  /** Status filter values; omitted when the records have no status. */
  statuses?: readonly string[];
  query: ListPageQuery;
}

/** The search and filter form above a list. */
function listFilters(o: ControlsOptions): Html {
  const filtered = (o.query.q ?? '') !== '' || (o.query.status ?? '') !== '';
  return html`<form class="filters card" method="get" action="${o.path}" role="search">
<div><label for="f-q">Search</label><input id="f-q" type="search" name="q" value="${o.query.q ?? ''}" placeholder="${o.searchHint}"></div>
${
  o.statuses
    ? html`<div><label for="f-status">Status</label><select id="f-status" name="status"><option value="">any</option>${o.statuses.map(
        (s) => html`<option value="${s}"${o.query.status === s ? html` selected` : ''}>${s}</option>`,
      )}</select></div>`
    : ''
}<div class="filter-actions"><button type="submit">Search</button>${filtered ? html` <a class="button secondary" href="${o.path}">Clear</a>` : ''}</div></form>`;
}

/** "Newer" / "Older" links under a list, keeping the search and filter. */
function pager(o: { path: string; query: ListPageQuery; next: number | null; shown: number }): Html {
  const keep = { q: o.query.q, status: o.query.status };
  const newest = o.query.before === undefined ? '' : html`<a href="${o.path}${queryString(keep)}">← Newest</a>`;
  const older = o.next === null ? '' : html`<a href="${o.path}${queryString({ ...keep, before: o.next })}" rel="next">Older →</a>`;
  if (newest === '' && older === '') return html``;
  return html`<nav class="pager" aria-label="Pages">${newest}<span class="muted">${o.shown} shown</span>${older}</nav>`;
}

/** Both controls for a list: the filters above, the pager below. */
export function listControls(o: ControlsOptions & { next: number | null; shown: number }): { filters: Html; pager: Html } {
  return { filters: listFilters(o), pager: pager(o) };
}
