/**
 * Flipfix's page URLs (its urls.py) and media URLs (its storage), so posts
 * link where Flipfix's own notifications linked.
 */
import type { EntityType } from '@flipfix/events';

/** Paths of Flipfix's record pages, from flipfix/urls.py (names in comments). */
export const FLIPFIX_PATHS = {
  /** `problem-report-detail`: problem-reports/<int:pk>/ */
  problemReport: (id: number) => `/problem-reports/${id}/`,
  /** `log-detail`: logs/<int:pk>/ */
  logEntry: (id: number) => `/logs/${id}/`,
  /** `part-request-detail`: parts/<int:pk>/ */
  partRequest: (id: number) => `/parts/${id}/`,
  /** `part-request-update-detail`: parts/updates/<int:pk>/ */
  partRequestUpdate: (id: number) => `/parts/updates/${id}/`,
  /** `maintainer-machine-detail`: machines/<slug:slug>/ */
  machine: (slug: string) => `/machines/${encodeURIComponent(slug)}/`,
  /** `machine-model-edit`: models/<slug:slug>/edit/ (the model's only page) */
  machineModel: (slug: string) => `/models/${encodeURIComponent(slug)}/edit/`,
} as const;

/** The page of each record type an event can be about. */
export function flipfixRecordPath(entityType: EntityType, id: number): string {
  switch (entityType) {
    case 'problem_report':
      return FLIPFIX_PATHS.problemReport(id);
    case 'log_entry':
      return FLIPFIX_PATHS.logEntry(id);
    case 'part_request':
      return FLIPFIX_PATHS.partRequest(id);
    case 'part_request_update':
      return FLIPFIX_PATHS.partRequestUpdate(id);
  }
}

/** Flipfix's `MEDIA_URL` (settings/base.py), served by its `media` route. */
export const FLIPFIX_MEDIA_URL = '/media/';

/**
 * The absolute URL of a stored file, as Flipfix builds a thumbnail's: the
 * storage URL (`MEDIA_URL` + the name, each path segment percent-encoded as
 * Django's `filepath_to_uri` does) made absolute with the site's base URL
 * unless it already is (a `MEDIA_URL` on another host).
 */
export function mediaUrl(baseUrl: string, mediaBase: string, name: string): string {
  if (/^https?:\/\//i.test(name)) return name;
  const path = name.replaceAll('\\', '/').split('/').map(encodeURIComponent).join('/');
  const url = `${mediaBase.endsWith('/') ? mediaBase : `${mediaBase}/`}${path}`;
  return /^https?:\/\//i.test(url) ? url : `${baseUrl.replace(/\/+$/, '')}${url.startsWith('/') ? '' : '/'}${url}`;
}
