/** Builders for post subjects with sensible defaults, shared by the tests. */
import type { LogEntryPost, PartRequestPost, PartRequestUpdatePost, ProblemReportPost } from '@flipfix/events';

export const BASE = 'https://flipfix.example.org';
export const EBD = { id: 7, name: 'Eight Ball Deluxe', shortName: 'EBD' };
export const AT = new Date('2025-03-01T12:00:00.000Z');

export function problemReport(over: Partial<ProblemReportPost> = {}): ProblemReportPost {
  return {
    kind: 'problem_report',
    id: 12,
    machine: EBD,
    status: 'open',
    problemType: 'stuck_ball',
    priority: 'untriaged',
    description: 'Ball stuck behind the upper flipper',
    reporterName: 'Ada',
    reporterContact: 'ada@example.com',
    claimedByName: null,
    url: `${BASE}/problem-reports/12`,
    photoUrls: [],
    createdAt: AT,
    links: {},
    ...over,
  };
}

export function logEntry(over: Partial<LogEntryPost> = {}): LogEntryPost {
  return {
    kind: 'log_entry',
    id: 5,
    machine: EBD,
    text: 'Replaced the flipper coil sleeve',
    maintainerNames: ['Bob', 'Cy'],
    problemReport: null,
    url: `${BASE}/log-entries/5`,
    photoUrls: [],
    createdAt: AT,
    links: {},
    ...over,
  };
}

export function partRequest(over: Partial<PartRequestPost> = {}): PartRequestPost {
  return {
    kind: 'part_request',
    id: 3,
    machine: EBD,
    text: 'Two #44 bulbs',
    status: 'requested',
    requestedByName: 'Dee',
    url: `${BASE}/part-requests/3`,
    photoUrls: [],
    createdAt: AT,
    links: {},
    ...over,
  };
}

export function partUpdate(over: Partial<PartRequestUpdatePost> = {}): PartRequestUpdatePost {
  return {
    kind: 'part_request_update',
    id: 9,
    partRequestId: 3,
    machine: EBD,
    text: 'Ordered from the usual supplier',
    newStatus: null,
    requestStatus: 'requested',
    postedByName: 'Eve',
    partRequest: { label: 'Parts Request #3', url: `${BASE}/part-requests/3`, lead: null, text: 'Two #44 bulbs' },
    url: `${BASE}/part-requests/3#update-9`,
    photoUrls: [],
    createdAt: AT,
    links: {},
    ...over,
  };
}
