/**
 * The event catalog: Flipfix's event type names (the per-event toggle keys),
 * what each is about, and the data a formatter needs to turn one into a post.
 */
import { z } from 'zod';
import { findLinks, type LinkLookup, type LinkTarget, type LinkTargets, resolveLinksIn } from './links';

/** Event types that create a new Discord post. */
export const POST_EVENT_TYPES = [
  'problem_report_created',
  'log_entry_created',
  'part_request_created',
  'part_request_update_created',
] as const;

/** Every event type, including the one that edits an earlier post in place. */
export const EVENT_TYPES = [...POST_EVENT_TYPES, 'problem_report_status_changed'] as const;

export type PostEventType = (typeof POST_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

export const EventTypeSchema = z.enum(EVENT_TYPES);

export const ENTITY_TYPES = ['problem_report', 'log_entry', 'part_request', 'part_request_update'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** The entity each event type is about. */
export const EVENT_ENTITY: Record<EventType, EntityType> = {
  problem_report_created: 'problem_report',
  log_entry_created: 'log_entry',
  part_request_created: 'part_request',
  part_request_update_created: 'part_request_update',
  problem_report_status_changed: 'problem_report',
};

/** Human labels, for the console. */
export const EVENT_LABELS: Record<EventType, string> = {
  problem_report_created: 'Problem report created',
  log_entry_created: 'Log entry created',
  part_request_created: 'Part request created',
  part_request_update_created: 'Part request update',
  problem_report_status_changed: 'Problem report closed / reopened (edits the post)',
};

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

export const PROBLEM_TYPES = ['stuck_ball', 'no_credits', 'other'] as const;
export const PRIORITIES = ['untriaged', 'unplayable', 'major', 'minor', 'task'] as const;
export const PART_REQUEST_STATUSES = ['requested', 'ordered', 'received', 'cancelled'] as const;
export const PROBLEM_REPORT_STATUSES = ['open', 'closed'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type PartRequestStatus = (typeof PART_REQUEST_STATUSES)[number];
export type ProblemReportStatus = (typeof PROBLEM_REPORT_STATUSES)[number];

export const PROBLEM_TYPE_LABELS: Record<ProblemType, string> = {
  stuck_ball: 'Stuck Ball',
  no_credits: 'No Credits',
  other: 'Other',
};

/** A machine as a post names it. */
export interface MachineRef {
  id: number;
  name: string;
  shortName: string | null;
}

/** A linked record shown on the 📎 line: `📎 [label](url): Lead: text…`. */
export interface LinkedRecord {
  /** The link's text, e.g. `Problem Report #11`, `Parts Request #31`. */
  label: string;
  url: string;
  /** Shown before the preview and never cut, e.g. the problem type (`Stuck Ball`); null for none. */
  lead: string | null;
  /** The record's text as stored (link markup included); the formatter renders links, then cuts the preview. */
  text: string;
}

interface PostBase {
  /** Absolute URL of the record's page (the title link and the button). */
  url: string;
  /** Photo URLs in order, absolute or relative to the site; the formatter shows at most 4. */
  photoUrls: string[];
  createdAt: Date;
  /** The targets of the record links in this subject's texts (its own and the linked record's), resolved in bulk. */
  links: LinkTargets;
}

export interface ProblemReportPost extends PostBase {
  kind: 'problem_report';
  id: number;
  machine: MachineRef;
  status: ProblemReportStatus;
  problemType: ProblemType;
  priority: Priority;
  description: string;
  reporterName: string | null;
  reporterContact: string | null;
  claimedByName: string | null;
}

export interface LogEntryPost extends PostBase {
  kind: 'log_entry';
  id: number;
  machine: MachineRef;
  text: string;
  maintainerNames: string[];
  problemReport: LinkedRecord | null;
}

export interface PartRequestPost extends PostBase {
  kind: 'part_request';
  id: number;
  machine: MachineRef | null;
  text: string;
  status: PartRequestStatus;
  requestedByName: string | null;
}

export interface PartRequestUpdatePost extends PostBase {
  kind: 'part_request_update';
  id: number;
  partRequestId: number;
  machine: MachineRef | null;
  text: string;
  newStatus: PartRequestStatus | null;
  /** The request's status now (after this update). */
  requestStatus: PartRequestStatus;
  postedByName: string | null;
  partRequest: LinkedRecord;
}

/** Everything a formatter needs about one record, loaded fresh from the database. */
export type PostSubject = ProblemReportPost | LogEntryPost | PartRequestPost | PartRequestUpdatePost;

/** The texts of a subject that may hold record links: its own, and the linked record's (for the 📎 preview). */
export function subjectTexts(subject: PostSubject): string[] {
  switch (subject.kind) {
    case 'problem_report':
      return [subject.description];
    case 'log_entry':
      return subject.problemReport === null ? [subject.text] : [subject.text, subject.problemReport.text];
    case 'part_request':
      return [subject.text];
    case 'part_request_update':
      return [subject.text, subject.partRequest.text];
  }
}

/**
 * Resolves the record links of all `subjects` with one call to `lookup`
 * (one query per kind of link, for the whole batch) and sets each subject's
 * `links` to the targets of its own texts. Every source of subjects (our
 * tables, a Flipfix database) finishes loading with this, using its lookup.
 */
export async function resolveSubjectLinks(lookup: LinkLookup, subjects: readonly PostSubject[]): Promise<void> {
  const all = await resolveLinksIn(lookup, subjects.flatMap(subjectTexts));
  for (const subject of subjects) {
    const own: Record<string, LinkTarget> = {};
    for (const m of subjectTexts(subject).flatMap(findLinks)) if (Object.hasOwn(all, m.key)) own[m.key] = all[m.key]!;
    subject.links = own;
  }
}

/** The outbox row as the relay and router see it. */
export const OutboxEventSchema = z.object({
  id: z.uuid(),
  type: EventTypeSchema,
  entityType: z.enum(ENTITY_TYPES),
  entityId: z.number().int().positive(),
  actorName: z.string().nullable(),
  createdAt: z.coerce.date(),
});
export type OutboxEventRef = z.infer<typeof OutboxEventSchema>;

export * from './links';
