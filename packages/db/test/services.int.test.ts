import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  claimProblemReport,
  createLogEntry,
  createMachine,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  createTestDatabase,
  DEMO_MACHINES,
  factories,
  getLogEntry,
  getMachine,
  getMachineBySlug,
  getPartRequest,
  getPartRequestUpdate,
  getProblemReport,
  listLogEntries,
  listMachines,
  listPartRequests,
  listPartRequestUpdates,
  listProblemReports,
  NotFoundError,
  seedDemo,
  setProblemReportStatus,
  updateMachine,
  type TestDatabase,
} from '../src/index.ts';
import { baseUrl } from './helpers.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
});
afterAll(() => t?.drop());

function eventsOf(entityType: string, entityId: number) {
  return t.db.prisma.outboxEvent.findMany({ where: { entityType, entityId }, orderBy: { createdAt: 'asc' } });
}

describe('machines', () => {
  it('creates, lists by name, gets; a taken name or short name is a conflict on that field', async () => {
    const m = await createMachine(t.db, { name: 'Zaccaria Farfalla', shortName: 'FAR', location: 'Hall' });
    expect(await getMachine(t.db, m.id)).toEqual(m);
    expect((await listMachines(t.db)).map((x) => x.name)).toContain('Zaccaria Farfalla');
    await expect(createMachine(t.db, { name: 'Zaccaria Farfalla' })).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
      field: 'name',
    });
    await expect(createMachine(t.db, { name: 'Other', shortName: 'FAR' })).rejects.toMatchObject({
      code: 'conflict',
      field: 'shortName',
    });
    await expect(getMachine(t.db, 999_999)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('slugs: derived from the name as Flipfix does, unique, editable, and given to rows any writer inserts', async () => {
    const a = await createMachine(t.db, { name: 'Théâtre of Magic: Limited (LE)' });
    expect(a.slug).toBe('theatre-of-magic-limited-le');
    const b = await createMachine(t.db, { name: 'Theatre of Magic — Limited LE!' });
    expect(b.slug).toBe('theatre-of-magic-limited-le-2');
    const c = await createMachine(t.db, { name: '★★★' });
    expect(c.slug).toBe('machine');
    await t.db.pool.query(`INSERT INTO machines (name) VALUES ('Written by psql')`);
    expect((await t.db.prisma.machine.findUniqueOrThrow({ where: { name: 'Written by psql' } })).slug).toBe('written-by-psql');

    expect((await createMachine(t.db, { name: 'Given Slug', slug: 'my-slug' })).slug).toBe('my-slug');
    const edited = await updateMachine(t.db, a.id, { slug: 'tom' });
    expect(await getMachineBySlug(t.db, 'tom')).toEqual(edited);
    await expect(getMachineBySlug(t.db, 'theatre-of-magic-limited-le')).rejects.toBeInstanceOf(NotFoundError);
    await expect(updateMachine(t.db, b.id, { slug: 'tom' })).rejects.toMatchObject({ code: 'conflict', field: 'slug' });
    await expect(updateMachine(t.db, b.id, { slug: 'Not A Slug' })).rejects.toMatchObject({ code: 'invalid', field: 'slug' });
    await expect(updateMachine(t.db, 999_999, { slug: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('problem reports', () => {
  it('creates with photos in order and one outbox event; an unknown machine is not found', async () => {
    const machine = await factories.machine(t.db);
    const report = await createProblemReport(t.db, {
      machineId: machine.id,
      description: 'Ball stuck in the scoop',
      problemType: 'stuck_ball',
      priority: 'unplayable',
      reporterName: 'Visitor Val',
      photoUrls: ['https://img.example/b.jpg', 'https://img.example/a.jpg'],
    });
    expect(report).toMatchObject({ status: 'open', problemType: 'stuck_ball', priority: 'unplayable', machine: { id: machine.id } });
    expect(report.photos.map((p) => p.url)).toEqual(['https://img.example/b.jpg', 'https://img.example/a.jpg']);
    const events = await eventsOf('problem_report', report.id);
    expect(events.map((e) => [e.type, e.actorName])).toEqual([['problem_report_created', 'Visitor Val']]);

    const missing = createProblemReport(t.db, { machineId: 999_999, description: 'x' });
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing).rejects.toMatchObject({ status: 404, field: 'machineId' });
  });

  it('closing writes a linked "Closed problem report" entry and one status event; closing again is a no-op; reopening writes "Re-opened problem report"', async () => {
    const report = await factories.problemReport(t.db);
    const closed = await setProblemReportStatus(t.db, report.id, 'closed', 'Maintainer Mo');
    expect(closed.changed).toBe(true);
    expect(closed.report.status).toBe('closed');
    const entry = await getLogEntry(t.db, closed.logEntryId!);
    expect(entry).toMatchObject({
      text: 'Closed problem report',
      problemReportId: report.id,
      machineId: report.machineId,
      maintainerNames: ['Maintainer Mo'],
    });

    const again = await setProblemReportStatus(t.db, report.id, 'closed', 'Someone Else');
    expect(again).toMatchObject({ changed: false, logEntryId: null });
    expect(await listLogEntries(t.db, { problemReportId: report.id })).toHaveLength(1);

    const reopened = await setProblemReportStatus(t.db, report.id, 'open');
    expect(reopened.changed).toBe(true);
    expect(await getLogEntry(t.db, reopened.logEntryId!)).toMatchObject({
      text: 'Re-opened problem report',
      maintainerNames: [],
    });

    const statusEvents = (await eventsOf('problem_report', report.id)).filter((e) => e.type === 'problem_report_status_changed');
    expect(statusEvents.map((e) => [e.actorName, e.payload])).toEqual([
      ['Maintainer Mo', { from: 'open', to: 'closed', machine_id: report.machineId }],
      [null, { from: 'closed', to: 'open', machine_id: report.machineId }],
    ]);
    await expect(setProblemReportStatus(t.db, 999_999, 'closed')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('two concurrent closes change the report once', async () => {
    const report = await factories.problemReport(t.db);
    const results = await Promise.all([
      setProblemReportStatus(t.db, report.id, 'closed', 'A'),
      setProblemReportStatus(t.db, report.id, 'closed', 'B'),
    ]);
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await listLogEntries(t.db, { problemReportId: report.id })).toHaveLength(1);
  });

  it('claiming sets the claimant once; a second claim changes nothing', async () => {
    const report = await factories.problemReport(t.db);
    const first = await claimProblemReport(t.db, report.id, 'Pat');
    expect(first.changed).toBe(true);
    expect(first.report.claimedByName).toBe('Pat');
    expect(first.report.claimedAt).toBeInstanceOf(Date);
    const second = await claimProblemReport(t.db, report.id, 'Quinn');
    expect(second.changed).toBe(false);
    expect(second.report).toMatchObject({ claimedByName: 'Pat', claimedAt: first.report.claimedAt });
    await expect(claimProblemReport(t.db, 999_999, 'Pat')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first with a limit and filters; gets by id', async () => {
    const machine = await factories.machine(t.db);
    const a = await factories.problemReport(t.db, { machineId: machine.id });
    const b = await factories.problemReport(t.db, { machineId: machine.id });
    const c = await factories.problemReport(t.db, { machineId: machine.id });
    expect((await listProblemReports(t.db, { machineId: machine.id })).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect((await listProblemReports(t.db, { machineId: machine.id, limit: 2 })).map((r) => r.id)).toEqual([c.id, b.id]);
    expect((await listProblemReports(t.db, { machineId: machine.id, beforeId: b.id })).map((r) => r.id)).toEqual([a.id]);
    expect((await getProblemReport(t.db, b.id)).id).toBe(b.id);
    await expect(getProblemReport(t.db, 999_999)).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });
});

describe('log entries', () => {
  it('links a report of the same machine only', async () => {
    const report = await factories.problemReport(t.db);
    const entry = await createLogEntry(t.db, {
      machineId: report.machineId,
      text: 'Adjusted the scoop',
      problemReportId: report.id,
      maintainerNames: [' Ada ', '', 'Grace'],
      photoUrls: ['https://img.example/1.jpg'],
    });
    expect(entry).toMatchObject({ problemReportId: report.id, maintainerNames: ['Ada', 'Grace'] });
    expect(entry.problemReport?.id).toBe(report.id);
    expect(entry.photos.map((p) => p.url)).toEqual(['https://img.example/1.jpg']);

    const other = await factories.machine(t.db);
    const wrong = createLogEntry(t.db, { machineId: other.id, text: 'x', problemReportId: report.id });
    await expect(wrong).rejects.toBeInstanceOf(AppError);
    await expect(wrong).rejects.toMatchObject({ code: 'invalid', status: 400, field: 'problemReportId' });
    await expect(createLogEntry(t.db, { machineId: other.id, text: 'x', problemReportId: 999_999 })).rejects.toMatchObject({
      code: 'not_found',
      field: 'problemReportId',
    });
    await expect(createLogEntry(t.db, { machineId: 999_999, text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getLogEntry(t.db, 999_999)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('part requests', () => {
  it('an update with newStatus changes the request in the same transaction', async () => {
    const request = await createPartRequest(t.db, { text: 'Slingshot rubbers', requestedByName: 'Lin' });
    expect(request.status).toBe('requested');
    const update = await createPartRequestUpdate(t.db, request.id, {
      text: 'Ordered from the supplier',
      newStatus: 'ordered',
      postedByName: 'Kim',
      photoUrls: ['https://img.example/receipt.jpg'],
    });
    expect(update).toMatchObject({ newStatus: 'ordered', postedByName: 'Kim', partRequest: { id: request.id, status: 'ordered' } });
    expect((await getPartRequest(t.db, request.id)).status).toBe('ordered');
    expect((await eventsOf('part_request_update', update.id)).map((e) => e.type)).toEqual(['part_request_update_created']);

    const plain = await createPartRequestUpdate(t.db, request.id, { text: 'Still waiting' });
    expect(plain.newStatus).toBeNull();
    expect((await getPartRequest(t.db, request.id)).status).toBe('ordered');
    expect((await listPartRequestUpdates(t.db, { partRequestId: request.id })).map((u) => u.id)).toEqual([plain.id, update.id]);
  });

  it('a failing update rolls back the status change with it', async () => {
    const request = await factories.partRequest(t.db);
    // Postgres rejects NUL in text, so the insert fails after the status was set.
    await expect(
      createPartRequestUpdate(t.db, request.id, { text: 'bad \u0000 text', newStatus: 'received' }),
    ).rejects.toThrow();
    expect((await getPartRequest(t.db, request.id)).status).toBe('requested');
    expect(await listPartRequestUpdates(t.db, { partRequestId: request.id })).toEqual([]);
    expect(await t.db.prisma.outboxEvent.count({ where: { entityType: 'part_request_update', payload: { path: ['part_request_id'], equals: request.id } } })).toBe(0);
  });

  it('unknown ids are not found', async () => {
    await expect(createPartRequestUpdate(t.db, 999_999, { text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(createPartRequest(t.db, { text: 'x', machineId: 999_999 })).rejects.toMatchObject({ field: 'machineId' });
    await expect(getPartRequest(t.db, 999_999)).rejects.toBeInstanceOf(NotFoundError);
    await expect(getPartRequestUpdate(t.db, 999_999)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first', async () => {
    const a = await factories.partRequest(t.db);
    const b = await factories.partRequest(t.db);
    expect((await listPartRequests(t.db, { limit: 2 })).map((r) => r.id)).toEqual([b.id, a.id]);
  });
});

describe('seedDemo', () => {
  it('adds the demo machines to an empty database once, and never again', async () => {
    const fresh = await createTestDatabase({ baseUrl });
    try {
      const [first, second] = await Promise.all([seedDemo(fresh.db), seedDemo(fresh.db)]);
      expect(first.created + second.created).toBe(DEMO_MACHINES.length);
      expect((await listMachines(fresh.db)).map((m) => m.shortName).sort()).toEqual(
        DEMO_MACHINES.map((m) => m.shortName).sort(),
      );
      expect(await seedDemo(fresh.db)).toEqual({ created: 0 });
    } finally {
      await fresh.drop();
    }
  });
});
