/**
 * Every bot post carries the "View in Flipfix" link button (style 5) to the
 * record's page, whatever the kind and status of the record; webhook posts
 * (legacy, not application-owned) carry no components at all.
 */
import { describe, expect, it } from 'vitest';
import { formatPost, formatStatusEdit } from '@flipfix/discord';
import type { PostSubject } from '@flipfix/events';

const base = { photoUrls: [], createdAt: new Date('2026-01-01T00:00:00Z'), links: {} };
const machine = { id: 1, name: 'Eight Ball Deluxe', shortName: 'EBD' };
const subjects: PostSubject[] = [
  { ...base, kind: 'problem_report', id: 3, url: 'https://flipfix.example/problem-reports/3', machine, status: 'open', problemType: 'other', priority: 'minor', description: 'x', reporterName: null, reporterContact: null, claimedByName: null },
  { ...base, kind: 'problem_report', id: 4, url: 'https://flipfix.example/problem-reports/4', machine, status: 'closed', problemType: 'other', priority: 'minor', description: 'x', reporterName: null, reporterContact: null, claimedByName: 'Ada' },
  { ...base, kind: 'log_entry', id: 5, url: 'https://flipfix.example/log-entries/5', machine, text: 'y', maintainerNames: [], problemReport: null },
  { ...base, kind: 'part_request', id: 6, url: 'https://flipfix.example/part-requests/6', machine: null, text: 'z', status: 'received', requestedByName: null },
  {
    ...base,
    kind: 'part_request_update',
    id: 7,
    partRequestId: 6,
    url: 'https://flipfix.example/part-requests/6#update-7',
    machine: null,
    text: 'w',
    newStatus: null,
    requestStatus: 'requested',
    postedByName: null,
    partRequest: { label: 'Parts Request #6', url: 'https://flipfix.example/part-requests/6', lead: null, text: 'z' },
  },
];

describe('link button', () => {
  for (const subject of subjects) {
    it(`${subject.kind} #${subject.id}: first button links to the record`, () => {
      for (const body of [formatPost(subject, { baseUrl: 'https://flipfix.example', mode: 'bot' }), formatStatusEdit(subject, { baseUrl: 'https://flipfix.example', mode: 'bot' })]) {
        const first = (body.components?.[0] as { components: Record<string, unknown>[] } | undefined)?.components[0];
        expect(first).toEqual({ type: 2, style: 5, label: 'View in Flipfix', url: subject.url });
      }
    });
  }

  it('claim disabled once claimed; a closed report offers Reopen instead of Claim and Close', () => {
    const labels = (s: PostSubject) =>
      ((formatPost(s, { baseUrl: 'https://flipfix.example' }).components?.[0] as { components: { label?: string; disabled?: boolean }[] } | undefined)?.components ?? []).map(
        (b) => `${b.label}${b.disabled ? ' (disabled)' : ''}`,
      );
    const open = subjects[0] as Extract<PostSubject, { kind: 'problem_report' }>;
    expect(labels(open)).toEqual(['View in Flipfix', 'Claim', 'Close']);
    expect(labels({ ...open, claimedByName: 'Ada' })).toEqual(['View in Flipfix', 'Claim (disabled)', 'Close']);
    expect(labels(subjects[1]!)).toEqual(['View in Flipfix', 'Reopen']);
  });

  it('webhook posts have no components', () => {
    expect(formatPost(subjects[0]!, { baseUrl: 'https://flipfix.example', mode: 'webhook' }).components).toBeUndefined();
  });
});
