import {
  type EntityType,
  type EventType,
  type LinkedRecord,
  type MachineRef,
  PROBLEM_TYPE_LABELS,
  type PostSubject,
  resolveSubjectLinks,
} from '@flipfix/events';
import { createRecordLinkLookup, RECORD_PATHS } from './links.ts';
import type { Machine, PrismaClient } from './generated/prisma/client.ts';
import { photosInOrder } from './services/shared.ts';

/** The record an outbox event is about. */
export interface PostSubjectRef {
  type: EventType;
  entityType: EntityType;
  entityId: number;
}

const base = (baseUrl: string) => baseUrl.replace(/\/+$/, '');

function machineRef(machine: Machine): MachineRef {
  return { id: machine.id, name: machine.name, shortName: machine.shortName };
}

/**
 * Loads the record behind an event, fresh, as the formatter's view (photos
 * ordered by position, linked records with page URLs, the targets of its
 * record links). Null when the record has been deleted since. `problem_report_status_changed` loads the report as
 * it is now, so an edited post shows the current status.
 */
export async function loadPostSubject(prisma: PrismaClient, event: PostSubjectRef, baseUrl: string): Promise<PostSubject | null> {
  const [subject] = await loadPostSubjects(prisma, [event], baseUrl);
  return subject ?? null;
}

/**
 * {@link loadPostSubject} for many events at once: one query per record type
 * (with joins), whatever the number of events, and, when the texts hold
 * record links, one query per kind of link for the whole batch. The result is
 * aligned with `events`; null where the record no longer exists.
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
                url: base(baseUrl) + RECORD_PATHS.problem_report(r.id),
                photoUrls: r.photos.map((p) => p.url),
                createdAt: r.createdAt,
                links: {},
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
            include: { machine: true, photos: photosInOrder, problemReport: { select: { id: true, description: true, problemType: true } } },
          })
          .then((rows) => {
            for (const e of rows) {
              const linked: LinkedRecord | null =
                e.problemReport === null
                  ? null
                  : {
                      label: `Problem Report #${e.problemReport.id}`,
                      url: base(baseUrl) + RECORD_PATHS.problem_report(e.problemReport.id),
                      lead: e.problemReport.problemType === 'other' ? null : PROBLEM_TYPE_LABELS[e.problemReport.problemType],
                      text: e.problemReport.description,
                    };
              put('log_entry', {
                kind: 'log_entry',
                id: e.id,
                url: base(baseUrl) + RECORD_PATHS.log_entry(e.id),
                photoUrls: e.photos.map((p) => p.url),
                createdAt: e.createdAt,
                links: {},
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
                url: base(baseUrl) + RECORD_PATHS.part_request(r.id),
                photoUrls: r.photos.map((p) => p.url),
                createdAt: r.createdAt,
                links: {},
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
                url: base(baseUrl) + RECORD_PATHS.part_request_update(u.id, request.id),
                photoUrls: u.photos.map((p) => p.url),
                createdAt: u.createdAt,
                links: {},
                partRequestId: request.id,
                machine: request.machine === null ? null : machineRef(request.machine),
                text: u.text,
                newStatus: u.newStatus,
                requestStatus: request.status,
                postedByName: u.postedByName,
                partRequest: {
                  label: `Parts Request #${request.id}`,
                  url: base(baseUrl) + RECORD_PATHS.part_request(request.id),
                  lead: null,
                  text: request.text,
                },
              });
            }
          }),
  ]);
  await resolveSubjectLinks(createRecordLinkLookup(prisma, baseUrl), [...byKey.values()]);
  return events.map((e) => byKey.get(`${e.entityType}:${e.entityId}`) ?? null);
}
