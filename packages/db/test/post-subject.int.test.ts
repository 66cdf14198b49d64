import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogEntry,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  createTestDatabase,
  factories,
  loadPostSubject,
  loadPostSubjects,
  type PostSubjectRef,
  type TestDatabase,
} from '../src/index.ts';
import { baseUrl } from './helpers.ts';

const BASE = 'https://flipfix.example/';
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
});
afterAll(() => t?.drop());

describe('loadPostSubject', () => {
  it('problem report: every field, absolute URL, photos by position', async () => {
    const machine = await factories.machine(t.db, { name: 'Medieval Madness', shortName: 'MM' });
    const report = await createProblemReport(t.db, {
      machineId: machine.id,
      description: 'Castle gate stuck',
      problemType: 'stuck_ball',
      priority: 'unplayable',
      reporterContact: 'guest@example.org',
      photoUrls: ['https://img.example/1.jpg', 'https://img.example/2.jpg'],
    });
    // Reorder in the database: the view must follow position, not insertion.
    await t.db.prisma.photo.updateMany({ where: { url: 'https://img.example/1.jpg' }, data: { position: 5 } });
    const subject = await loadPostSubject(
      t.db.prisma,
      { type: 'problem_report_created', entityType: 'problem_report', entityId: report.id },
      BASE,
    );
    expect(subject).toEqual({
      kind: 'problem_report',
      id: report.id,
      url: `https://flipfix.example/problem-reports/${report.id}`,
      photoUrls: ['https://img.example/2.jpg', 'https://img.example/1.jpg'],
      createdAt: report.createdAt,
      machine: { id: machine.id, name: 'Medieval Madness', shortName: 'MM' },
      status: 'open',
      problemType: 'stuck_ball',
      priority: 'unplayable',
      description: 'Castle gate stuck',
      reporterName: null,
      reporterContact: 'guest@example.org',
      claimedByName: null,
      links: {},
    });
  });

  it('log entry: links its problem report, with its problem type as the lead and its whole text', async () => {
    const machine = await factories.machine(t.db);
    const report = await createProblemReport(t.db, {
      machineId: machine.id,
      description: 'The left flipper is very weak and sometimes does not return to its rest position at all',
      problemType: 'no_credits',
    });
    const entry = await createLogEntry(t.db, {
      machineId: machine.id,
      text: 'Replaced the flipper coil stop',
      problemReportId: report.id,
      maintainerNames: ['Ada', 'Grace'],
    });
    const subject = await loadPostSubject(
      t.db.prisma,
      { type: 'log_entry_created', entityType: 'log_entry', entityId: entry.id },
      'https://flipfix.example',
    );
    expect(subject).toMatchObject({
      kind: 'log_entry',
      url: `https://flipfix.example/log-entries/${entry.id}`,
      text: 'Replaced the flipper coil stop',
      maintainerNames: ['Ada', 'Grace'],
      photoUrls: [],
      problemReport: {
        label: `Problem Report #${report.id}`,
        url: `https://flipfix.example/problem-reports/${report.id}`,
        lead: 'No Credits',
        text: 'The left flipper is very weak and sometimes does not return to its rest position at all',
      },
    });
    const plain = await factories.logEntry(t.db, { machineId: machine.id });
    expect(
      await loadPostSubject(t.db.prisma, { type: 'log_entry_created', entityType: 'log_entry', entityId: plain.id }, BASE),
    ).toMatchObject({ problemReport: null });
  });

  it('part request with and without a machine, and an update linking its request with the current status', async () => {
    const machine = await factories.machine(t.db, { name: 'Attack from Mars', shortName: 'AFM' });
    const request = await createPartRequest(t.db, { text: 'Saucer LED board', machineId: machine.id, requestedByName: 'Lin' });
    expect(
      await loadPostSubject(t.db.prisma, { type: 'part_request_created', entityType: 'part_request', entityId: request.id }, BASE),
    ).toMatchObject({
      kind: 'part_request',
      url: `https://flipfix.example/part-requests/${request.id}`,
      machine: { id: machine.id, name: 'Attack from Mars', shortName: 'AFM' },
      status: 'requested',
      requestedByName: 'Lin',
    });
    const loose = await createPartRequest(t.db, { text: 'Generic fuses' });
    expect(
      await loadPostSubject(t.db.prisma, { type: 'part_request_created', entityType: 'part_request', entityId: loose.id }, BASE),
    ).toMatchObject({ machine: null, requestedByName: null });

    const update = await createPartRequestUpdate(t.db, request.id, { text: 'It arrived', newStatus: 'received', postedByName: 'Kim', photoUrls: ['https://img.example/box.jpg'] });
    expect(
      await loadPostSubject(
        t.db.prisma,
        { type: 'part_request_update_created', entityType: 'part_request_update', entityId: update.id },
        BASE,
      ),
    ).toEqual({
      kind: 'part_request_update',
      id: update.id,
      url: `https://flipfix.example/part-requests/${request.id}#update-${update.id}`,
      photoUrls: ['https://img.example/box.jpg'],
      createdAt: update.createdAt,
      partRequestId: request.id,
      machine: { id: machine.id, name: 'Attack from Mars', shortName: 'AFM' },
      text: 'It arrived',
      newStatus: 'received',
      requestStatus: 'received',
      postedByName: 'Kim',
      partRequest: {
        label: `Parts Request #${request.id}`,
        url: `https://flipfix.example/part-requests/${request.id}`,
        lead: null,
        text: 'Saucer LED board',
      },
      links: {},
    });
  });

  it('returns null when the record is gone', async () => {
    const report = await factories.problemReport(t.db);
    await t.db.prisma.problemReport.delete({ where: { id: report.id } });
    expect(
      await loadPostSubject(
        t.db.prisma,
        { type: 'problem_report_status_changed', entityType: 'problem_report', entityId: report.id },
        BASE,
      ),
    ).toBeNull();
  });
});

describe('loadPostSubjects', () => {
  it('loads a mixed batch aligned with its refs: each as loadPostSubject does, repeats too, null for a missing one', async () => {
    const machine = await factories.machine(t.db, { name: 'Funhouse', shortName: 'FH' });
    const report = await createProblemReport(t.db, { machineId: machine.id, description: 'Rudy does not talk' });
    const entry = await createLogEntry(t.db, { machineId: machine.id, problemReportId: report.id, text: 'Replaced the speaker' });
    const request = await createPartRequest(t.db, { text: 'Rudy eye motor', machineId: machine.id });
    const update = await createPartRequestUpdate(t.db, request.id, { text: 'Ordered it', newStatus: 'ordered' });
    const gone = await factories.problemReport(t.db);
    await t.db.prisma.problemReport.delete({ where: { id: gone.id } });
    const refs: PostSubjectRef[] = [
      { type: 'log_entry_created', entityType: 'log_entry', entityId: entry.id },
      { type: 'problem_report_created', entityType: 'problem_report', entityId: report.id },
      { type: 'problem_report_created', entityType: 'problem_report', entityId: gone.id },
      { type: 'part_request_update_created', entityType: 'part_request_update', entityId: update.id },
      { type: 'part_request_created', entityType: 'part_request', entityId: request.id },
      { type: 'problem_report_status_changed', entityType: 'problem_report', entityId: report.id },
      // Same id, other record type: not mixed up with the log entry of that id.
      { type: 'part_request_created', entityType: 'part_request', entityId: entry.id },
    ];
    const batch = await loadPostSubjects(t.db.prisma, refs, BASE);
    expect(batch).toHaveLength(refs.length);
    for (const [i, ref] of refs.entries()) expect(batch[i]).toEqual(await loadPostSubject(t.db.prisma, ref, BASE));
    expect(batch.map((x) => x?.kind ?? null)).toEqual([
      'log_entry',
      'problem_report',
      null,
      'part_request_update',
      'part_request',
      'problem_report',
      (await t.db.prisma.partRequest.findUnique({ where: { id: entry.id } })) ? 'part_request' : null,
    ]);
    expect(batch[0]).toMatchObject({ id: entry.id, problemReport: { label: `Problem Report #${report.id}` } });
    expect(await loadPostSubjects(t.db.prisma, [], BASE)).toEqual([]);
  });
});

describe('record links', () => {
  it('authored links are stored by id; a link to nothing is refused naming the field', async () => {
    const afm = await factories.machine(t.db, { name: 'Attack From Mars Links' });
    expect(afm.slug).toBe('attack-from-mars-links');
    const entry = await createLogEntry(t.db, { machineId: afm.id, text: 'Same as [[machine:attack-from-mars-links]] and [[machine:id:999999]], see [[problem:1]]' });
    expect(entry.text).toBe(`Same as [[machine:id:${afm.id}]] and [[machine:id:999999]], see [[problem:1]]`);
    await expect(createLogEntry(t.db, { machineId: afm.id, text: 'See [[machine:no-such-machine]] and [[model:x]]' })).rejects.toMatchObject({
      code: 'invalid',
      field: 'text',
      message: 'Machine not found: [[machine:no-such-machine]]; Model not found: [[model:x]]',
    });
  });

  it('resolves every link of a batch with one query per kind, with display names, absolute URLs and broken ones left out', async () => {
    const mm = await factories.machine(t.db, { name: 'Medieval Madness Links', shortName: 'MML' });
    const report = await createProblemReport(t.db, { machineId: mm.id, description: 'Castle  [gate] stuck open after the drawbridge hit' });
    const request = await createPartRequest(t.db, { text: 'Drawbridge motor' });
    const update = await createPartRequestUpdate(t.db, request.id, { text: 'Shipped today' });
    const entry = await createLogEntry(t.db, {
      machineId: mm.id,
      problemReportId: report.id,
      text: `${Array.from({ length: 20 }, () => `[[machine:id:${mm.id}]] [[problem:${report.id}]]`).join(' ')} [[partrequest:${request.id}]] [[partrequestupdate:${update.id}]] [[log:99999999]] [[page:id:1]]`,
    });
    let queries = 0;
    const counting = t.db.prisma.$extends({
      query: {
        $allOperations({ args, query }) {
          queries++;
          return query(args);
        },
      },
    }) as unknown as typeof t.db.prisma;
    const [subject] = await loadPostSubjects(counting, [{ type: 'log_entry_created', entityType: 'log_entry', entityId: entry.id }], 'https://flipfix.example');
    // The log entry itself, then one query per kind linked (machine, problem, log, partrequest,
    // partrequestupdate), however many links of each; nothing for pages, which our tables do not hold.
    expect(queries).toBe(6);
    expect(subject?.links).toEqual({
      [`machine:id:${mm.id}`]: { id: mm.id, label: 'Medieval Madness Links', url: 'https://flipfix.example/machines/medieval-madness-links' },
      [`problem:${report.id}`]: { id: report.id, label: `Problem #${report.id}: Castle gate stuck open after t...`, url: `https://flipfix.example/problem-reports/${report.id}` },
      [`partrequest:${request.id}`]: { id: request.id, label: `Part Request #${request.id}: Drawbridge motor`, url: `https://flipfix.example/part-requests/${request.id}` },
      [`partrequestupdate:${update.id}`]: {
        id: update.id,
        label: `Update #${update.id} on #${request.id}: Shipped today`,
        url: `https://flipfix.example/part-requests/${request.id}#update-${update.id}`,
      },
    });
  });
});
