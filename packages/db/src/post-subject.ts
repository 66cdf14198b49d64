import type { EntityType, EventType, LinkedRecord, MachineRef, PostSubject } from '@flipfix/events';
import type { Machine, PrismaClient } from './generated/prisma/client.ts';
import { photosInOrder } from './services/shared.ts';

/** The record an outbox event is about. */
export interface PostSubjectRef {
  type: EventType;
  entityType: EntityType;
  entityId: number;
}

/** Path of each record's human page (served by the web app), relative to the base URL. */
export const RECORD_PATHS: Record<EntityType, string> = {
  problem_report: '/problem-reports',
  log_entry: '/log-entries',
  part_request: '/part-requests',
  part_request_update: '/part-request-updates',
};

/** Absolute URL of a record's page, e.g. `https://flipfix.example/problem-reports/7`. */
export function recordUrl(baseUrl: string, entityType: EntityType, id: number): string {
  return `${baseUrl.replace(/\/+$/, '')}${RECORD_PATHS[entityType]}/${id}`;
}

const LINK_TEXT_CHARS = 50;

/** About the first 50 characters of `text`, on a word boundary when one is near, never splitting a code point. */
export function linkExcerpt(text: string, max = LINK_TEXT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  const cut = chars.slice(0, max).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space >= max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function machineRef(machine: Machine): MachineRef {
  return { id: machine.id, name: machine.name, shortName: machine.shortName };
}

/**
 * Loads the record behind an event, fresh, as the formatter's view (photos
 * ordered by position, linked records with page URLs). Null when the record
 * has been deleted since. `problem_report_status_changed` loads the report as
 * it is now, so an edited post shows the current status.
 */
export async function loadPostSubject(prisma: PrismaClient, event: PostSubjectRef, baseUrl: string): Promise<PostSubject | null> {
  const [subject] = await loadPostSubjects(prisma, [event], baseUrl);
  return subject ?? null;
}

/**
 * {@link loadPostSubject} for many events at once: one query per record type
 * (with joins), whatever the number of events. The result is aligned with
 * `events`; null where the record no longer exists.
 */
export async function loadPostSubjects(
  prisma: PrismaClient,
  events: readonly PostSubjectRef[],
  baseUrl: string,
): Promise<(PostSubject | null)[]> {
  const idsOf = (entity: EntityType) => [...new Set(events.filter((e) => e.entityType === entity).map((e) => e.entityId))];
  const byKey = new Map<string, PostSubject>();
  const put = (entity: EntityType, subject: PostSubject) => byKey.set(`${entity}:${subject.id}`, subject);
  const reports = idsOf('problem_report');
  const entries = idsOf('log_entry');
  const requests = idsOf('part_request');
  const updates = idsOf('part_request_update');
  // One query per record type, with joins instead of one query per relation.
  await Promise.all([
    reports.length === 0
      ? null
      : prisma.problemReport
          .findMany({ relationLoadStrategy: 'join', where: { id: { in: reports } }, include: { machine: true, photos: photosInOrder } })
          .then((rows) => {
            for (const r of rows) {
              put('problem_report', {
                kind: 'problem_report',
                id: r.id,
                url: recordUrl(baseUrl, 'problem_report', r.id),
                photoUrls: r.photos.map((p) => p.url),
                createdAt: r.createdAt,
                machine: machineRef(r.machine),
                status: r.status,
                problemType: r.problemType,
                priority: r.priority,
                description: r.description,
                reporterName: r.reporterName,
                reporterContact: r.reporterContact,
                claimedByName: r.claimedByName,
              });
            }
          }),
    entries.length === 0
      ? null
      : prisma.logEntry
          .findMany({
            relationLoadStrategy: 'join',
            where: { id: { in: entries } },
            include: { machine: true, photos: photosInOrder, problemReport: { select: { id: true, description: true } } },
          })
          .then((rows) => {
            for (const e of rows) {
              const linked: LinkedRecord | null =
                e.problemReport === null
                  ? null
                  : {
                      label: `Problem report #${e.problemReport.id}`,
                      url: recordUrl(baseUrl, 'problem_report', e.problemReport.id),
                      text: linkExcerpt(e.problemReport.description),
                    };
              put('log_entry', {
                kind: 'log_entry',
                id: e.id,
                url: recordUrl(baseUrl, 'log_entry', e.id),
                photoUrls: e.photos.map((p) => p.url),
                createdAt: e.createdAt,
                machine: machineRef(e.machine),
                text: e.text,
                maintainerNames: e.maintainerNames,
                problemReport: linked,
              });
            }
          }),
    requests.length === 0
      ? null
      : prisma.partRequest
          .findMany({ relationLoadStrategy: 'join', where: { id: { in: requests } }, include: { machine: true, photos: photosInOrder } })
          .then((rows) => {
            for (const r of rows) {
              put('part_request', {
                kind: 'part_request',
                id: r.id,
                url: recordUrl(baseUrl, 'part_request', r.id),
                photoUrls: r.photos.map((p) => p.url),
                createdAt: r.createdAt,
                machine: r.machine === null ? null : machineRef(r.machine),
                text: r.text,
                status: r.status,
                requestedByName: r.requestedByName,
              });
            }
          }),
    updates.length === 0
      ? null
      : prisma.partRequestUpdate
          .findMany({
            relationLoadStrategy: 'join',
            where: { id: { in: updates } },
            include: { photos: photosInOrder, partRequest: { include: { machine: true } } },
          })
          .then((rows) => {
            for (const u of rows) {
              const request = u.partRequest;
              put('part_request_update', {
                kind: 'part_request_update',
                id: u.id,
                url: recordUrl(baseUrl, 'part_request_update', u.id),
                photoUrls: u.photos.map((p) => p.url),
                createdAt: u.createdAt,
                partRequestId: request.id,
                machine: request.machine === null ? null : machineRef(request.machine),
                text: u.text,
                newStatus: u.newStatus,
                requestStatus: request.status,
                postedByName: u.postedByName,
                partRequest: {
                  label: `Part request #${request.id}`,
                  url: recordUrl(baseUrl, 'part_request', request.id),
                  text: linkExcerpt(request.text),
                },
              });
            }
          }),
  ]);
  return events.map((e) => byKey.get(`${e.entityType}:${e.entityId}`) ?? null);
}
