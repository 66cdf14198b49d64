/**
 * Record text on our pages: Flipfix's record links (`[[machine:id:7]]`,
 * `[[problem:11]]`...) shown as links to the record, labelled with its name,
 * and `[broken link]` for a record that does not exist; raw markup never
 * shows. Each page resolves the links of everything it shows in one lookup.
 */
import { createRecordLinkLookup, type Db } from '@flipfix/db';
import { type EntityType, findLinks, type LinkTargets, renderLinksWith, resolveLinksIn } from '@flipfix/events';
import { type Html, html, safeUrl } from './html';

/** The targets of every link in `texts`, with URLs relative to our site (one query per kind of link). */
export function pageLinks(db: Db, texts: readonly string[]): Promise<LinkTargets> {
  return resolveLinksIn(createRecordLinkLookup(db, ''), texts);
}

/** `text` as HTML, escaped, with its record links as `<a>` elements. */
export function linkedText(text: string, links: LinkTargets): Html {
  const parts: Html[] = [];
  let at = 0;
  for (const m of findLinks(text)) {
    const target = Object.hasOwn(links, m.key) ? links[m.key] : undefined;
    parts.push(
      html`${text.slice(at, m.start)}`,
      target === undefined ? html`<em class="broken-link">[broken link]</em>` : html`<a href="${safeUrl(target.url)}">${target.label}</a>`,
    );
    at = m.end;
  }
  parts.push(html`${text.slice(at)}`);
  return html`${parts}`;
}

/** A one-line preview of `text` for lists: links as their names, then cut to `max` characters (never inside a name's markup). */
export function textPreview(text: string, links: LinkTargets, max = 160): string {
  const plain = renderLinksWith(text, links, (target) => target?.label ?? '[broken link]');
  const points = Array.from(plain);
  return points.length > max ? `${points.slice(0, max).join('')}…` : plain;
}

const PAGE_PATHS: Record<EntityType, string> = {
  problem_report: '/problem-reports',
  log_entry: '/log-entries',
  part_request: '/part-requests',
  part_request_update: '/part-request-updates',
};

/** The path of a record's page on our site, e.g. `/log-entries/5`; null for an entity type we have no page for. */
export function recordPagePath(entityType: string, id: number): string | null {
  return Object.hasOwn(PAGE_PATHS, entityType) ? `${PAGE_PATHS[entityType as EntityType]}/${id}` : null;
}
