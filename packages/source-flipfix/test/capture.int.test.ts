/**
 * The Flipfix source on a database with Flipfix's schema: what the capture
 * writes to our outbox for each Django save, what the loader reads back, and
 * that detaching leaves Flipfix's database exactly as it was.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_DATABASE_URL } from '@flipfix/config';
import { createDb, dropDatabase, migrate, quoteIdent, type TestDatabase, withDatabase } from '@flipfix/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlipfixSource, detachFlipfix, FLIPFIX_SCHEMA, flipfixGrantsSql } from '../src/index.ts';
import { createFlipfixTestDatabase, DjangoWriter, type DjangoUser, flipfixFixtureSql } from '../src/testing.ts';

const BASE = 'https://flipfix.example.org';

interface OutboxRow {
  type: string;
  entity_type: string;
  entity_id: number;
  actor_name: string | null;
  payload: Record<string, unknown>;
}

describe('the Flipfix source on Flipfix schema', () => {
  let tdb: TestDatabase;
  let django: DjangoWriter;
  let machineId: number;
  let dana: DjangoUser;
  let lee: DjangoUser;

  const outboxFor = async (entityType: string, entityId: number) =>
    (
      await tdb.db.pool.query<OutboxRow>(
        'SELECT type, entity_type, entity_id, actor_name, payload FROM outbox_events WHERE entity_type = $1 AND entity_id = $2 ORDER BY seq',
        [entityType, entityId],
      )
    ).rows;

  beforeAll(async () => {
    tdb = await createFlipfixTestDatabase();
    django = new DjangoWriter(tdb.url);
    machineId = await django.machine({ name: 'Eight Ball Deluxe', slug: 'eight-ball-deluxe', shortName: 'EBD' });
    dana = await django.user({ username: 'dana', firstName: 'Dana', lastName: 'Scully' });
    lee = await django.user({ username: 'lee' });
    await django.linkDiscord(dana.maintainerId, { discordUserId: '300000000000000001', username: 'dana.s', displayName: 'Dana on Discord' });
  });
  afterAll(async () => {
    await django?.close();
    await tdb?.drop();
  });

  it('captures a visitor problem report once, at commit, with no actor (posted at once, never digested)', async () => {
    const id = await django.problemReport({ machineId, description: 'Ball stuck', problemType: 'stuck_ball', reporterName: 'Val' });
    const rows = await outboxFor('problem_report', id);
    expect(rows).toEqual([
      expect.objectContaining({ type: 'problem_report_created', actor_name: null, payload: expect.objectContaining({ problem_type: 'stuck_ball', status: 'open' }) }),
    ]);
  });

  it('captures nothing for a save that rolls back', async () => {
    const count = async () => (await tdb.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events')).rows[0]!.n;
    const before = await count();
    await expect(
      django.atomic(async (c) => {
        await c.query(
          `INSERT INTO maintenance_problemreport (created_at, updated_at, status, problem_type, description, reported_by_name, reported_by_contact,
             device_info, machine_id, occurred_at, priority) VALUES (now(), now(), 'open', 'other', 'rolled back', '', '', '', $1, now(), 'untriaged')`,
          [machineId],
        );
        throw new Error('form invalid');
      }),
    ).rejects.toThrow('form invalid');
    expect(await count()).toBe(before);
  });

  it('names the acting user as Flipfix digests do: linked Discord name, else full name, else username', async () => {
    const byDana = await django.logEntry({ machineId, text: 'Rebuilt flippers', maintainerIds: [dana.maintainerId], createdByUserId: dana.userId });
    const byLee = await django.partRequest({ text: 'Flipper coil', machineId, requestedById: lee.maintainerId });
    const anonymous = await django.partRequest({ text: 'Rubber kit', requestedByName: 'Visitor Vic' });
    expect((await outboxFor('log_entry', byDana))[0]?.actor_name).toBe('Dana on Discord');
    expect((await outboxFor('part_request', byLee))[0]?.actor_name).toBe('lee');
    expect((await outboxFor('part_request', anonymous))[0]?.actor_name).toBeNull();
  });

  it('emits no *_created event for a record that came from Discord (Flipfix #209)', async () => {
    const id = await django.logEntryFromDiscord({ machineId, text: 'Fixed via Discord', createdByUserId: dana.userId }, '400000000000000001');
    expect(await outboxFor('log_entry', id)).toEqual([]);
  });

  it("turns a part request's status change into the update's event only (Flipfix #208)", async () => {
    const requestId = await django.partRequest({ text: 'Pop bumper cap', machineId, requestedById: dana.maintainerId });
    const updateId = await django.partRequestUpdate({ partRequestId: requestId, text: 'Ordered from Marco', newStatus: 'ordered', postedById: lee.maintainerId });
    expect((await outboxFor('part_request', requestId)).map((r) => r.type)).toEqual(['part_request_created']);
    expect(await outboxFor('part_request_update', updateId)).toEqual([
      expect.objectContaining({
        type: 'part_request_update_created',
        actor_name: 'lee',
        payload: expect.objectContaining({ part_request_id: requestId, new_status: 'ordered' }),
      }),
    ]);
  });

  it('captures closing a problem report as a status change plus the log entry Flipfix writes beside it', async () => {
    const id = await django.problemReport({ machineId, description: 'Left flipper weak' });
    const logId = await django.setProblemReportStatus(id, 'closed', dana);
    expect((await outboxFor('problem_report', id)).map((r) => [r.type, r.payload.to ?? null])).toEqual([
      ['problem_report_created', null],
      ['problem_report_status_changed', 'closed'],
    ]);
    expect((await outboxFor('log_entry', logId)).map((r) => r.type)).toEqual(['log_entry_created']);
  });

  it("loads every record type as Flipfix's handlers show it: its pages, absolute thumbnails, Discord names", async () => {
    const source = createFlipfixSource();
    const records = source.records(tdb.db, `${BASE}/`);
    const reportId = await django.problemReport({
      machineId,
      description: 'Coin door jammed',
      problemType: 'no_credits',
      reporterContact: 'val@example.org',
      media: [
        { file: 'problem_reports/1/b.jpg', thumbnail: 'problem_reports/1/b thumb.jpg', displayOrder: 2 },
        { file: 'problem_reports/1/a.jpg', thumbnail: 'problem_reports/1/a-thumb.jpg', displayOrder: 1 },
        { file: 'problem_reports/1/v.mp4', mediaType: 'video' },
        { file: 'problem_reports/1/c.jpg', thumbnail: null },
      ],
    });
    const entryId = await django.logEntry({
      machineId,
      text: `Cleaned the coin mech of [[machine:id:${machineId}]]`,
      maintainerIds: [lee.maintainerId, dana.maintainerId],
      maintainerNames: 'Guest Gus',
      createdByUserId: lee.userId,
      problemReportId: reportId,
    });
    const requestId = await django.partRequest({ text: 'Coin mech spring', requestedById: dana.maintainerId });
    const updateId = await django.partRequestUpdate({ partRequestId: requestId, text: 'Arrived', newStatus: 'received', postedByName: 'Shop' });

    const [report, entry, request, update, missing] = await records.loadPostSubjects([
      { type: 'problem_report_created', entityType: 'problem_report', entityId: reportId },
      { type: 'log_entry_created', entityType: 'log_entry', entityId: entryId },
      { type: 'part_request_created', entityType: 'part_request', entityId: requestId },
      { type: 'part_request_update_created', entityType: 'part_request_update', entityId: updateId },
      { type: 'log_entry_created', entityType: 'log_entry', entityId: 999_999 },
    ]);
    expect(report).toMatchObject({
      kind: 'problem_report',
      url: `${BASE}/problem-reports/${reportId}/`,
      machine: { id: machineId, name: 'Eight Ball Deluxe', shortName: 'EBD' },
      problemType: 'no_credits',
      priority: 'untriaged',
      reporterName: null,
      reporterContact: 'val@example.org',
      photoUrls: [`${BASE}/media/problem_reports/1/a-thumb.jpg`, `${BASE}/media/problem_reports/1/b%20thumb.jpg`],
    });
    expect(entry).toMatchObject({
      kind: 'log_entry',
      url: `${BASE}/logs/${entryId}/`,
      // Maintainers in Flipfix's order (by username), Discord name when linked, then the free-text names.
      maintainerNames: ['Dana on Discord', 'lee', 'Guest Gus'],
      problemReport: { label: `Problem Report #${reportId}`, url: `${BASE}/problem-reports/${reportId}/`, lead: 'No Credits', text: 'Coin door jammed' },
      // The markup's targets, resolved against Flipfix's own records, for the shared renderer.
      links: { [`machine:id:${machineId}`]: { id: machineId, label: 'Eight Ball Deluxe', url: `${BASE}/machines/eight-ball-deluxe/` } },
    });
    expect(request).toMatchObject({ kind: 'part_request', url: `${BASE}/parts/${requestId}/`, machine: null, requestedByName: 'Dana on Discord', status: 'received' });
    expect(update).toMatchObject({
      kind: 'part_request_update',
      url: `${BASE}/parts/${requestId}/`,
      newStatus: 'received',
      requestStatus: 'received',
      postedByName: 'Shop',
      partRequest: { label: `Parts Request #${requestId}`, url: `${BASE}/parts/${requestId}/`, lead: null, text: 'Coin mech spring' },
    });
    expect(missing).toBeNull();
    expect(records.recordUrl('part_request_update', updateId)).toBe(`${BASE}/parts/updates/${updateId}/`);
  });

  it('resolves Flipfix link markup targets in bulk: machines by slug or stored id, records by id', async () => {
    const records = createFlipfixSource().records(tdb.db, BASE);
    const reportId = await django.problemReport({ machineId, description: 'Shooter lane [sticky]   rubber' });
    const found = await records.resolveLinks([
      { kind: 'machine', slug: 'eight-ball-deluxe' },
      { kind: 'machine', id: machineId },
      { kind: 'problem', id: reportId },
      { kind: 'machine', slug: 'no-such-machine' },
      { kind: 'log', id: 999_999 },
    ]);
    const machine = { id: machineId, label: 'Eight Ball Deluxe', url: `${BASE}/machines/eight-ball-deluxe/` };
    expect(Object.fromEntries(found)).toEqual({
      'machine:eight-ball-deluxe': machine,
      [`machine:id:${machineId}`]: machine,
      [`problem:${reportId}`]: { id: reportId, label: `Problem #${reportId}: Shooter lane sticky rubber`, url: `${BASE}/problem-reports/${reportId}/` },
    });
  });
});

const execFileAsync = promisify(execFile);

/** The database's whole schema as pg_dump prints it (what Django and its admin would see). */
async function schemaDump(url: string): Promise<string> {
  const u = new URL(url);
  const { stdout } = await execFileAsync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', '--restrict-key=schemadump', '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', decodeURIComponent(u.pathname.slice(1))]);
  return stdout;
}

describe('install and detach, as a role with only the documented privileges', () => {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const name = `flipfix_test_detach_${suffix}`;
  const role = `flipfix_notify_test_${suffix}`;
  // Django's own connection (the tables' owner) and ours (the role given flipfixGrantsSql).
  const url = withDatabase(DEFAULT_DATABASE_URL, name);
  const roleUrl = (() => {
    const u = new URL(url);
    u.username = role;
    return u.toString();
  })();

  const asAdmin = async (database: string, sql: string) => {
    const client = new pg.Client({ connectionString: withDatabase(DEFAULT_DATABASE_URL, database) });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await asAdmin('postgres', `CREATE DATABASE ${quoteIdent(name)}`);
    await asAdmin('postgres', `CREATE ROLE ${quoteIdent(role)} LOGIN`);
    await asAdmin(name, flipfixFixtureSql());
    await asAdmin(name, flipfixGrantsSql(role, name));
  });
  afterAll(async () => {
    await dropDatabase(DEFAULT_DATABASE_URL, name);
    await asAdmin('postgres', `DROP ROLE IF EXISTS ${quoteIdent(role)}`);
  });

  it("installs only in flipfix_notify and detaching leaves Flipfix's schema, data and migration history exactly as before", async () => {
    const django = new DjangoWriter(url);
    try {
      const machineId = await django.machine({ name: 'Gorgar', slug: 'gorgar' });
      const before = await schemaDump(url);
      const history = async () => (await django.pool.query('SELECT app, name, applied FROM django_migrations ORDER BY id')).rows;
      const historyBefore = await history();

      const source = createFlipfixSource();
      await migrate({ databaseUrl: roleUrl, migrationsDir: source.migrationsDirs, schema: source.schema });
      const installed = await schemaDump(url);
      // Nothing of ours outside our schema but the triggers (whose functions live in it).
      const publicTables = (await django.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      )).rows.map((r) => r.table_name);
      expect(publicTables).not.toContain('_prisma_migrations');
      expect(publicTables).not.toContain('outbox_events');
      expect(installed).toContain(`EXECUTE FUNCTION ${FLIPFIX_SCHEMA}.flipfix_log_entry_created_capture()`);

      // Django's role writes; the capture (ours, SECURITY DEFINER) records it; our role reads it back.
      const entryId = await django.logEntry({ machineId, text: 'Replaced the rubbers', maintainerNames: 'Pat' });
      const ours = createDb({ databaseUrl: roleUrl, schema: source.schema, max: 1 });
      try {
        const { rows: events } = await ours.pool.query('SELECT type, entity_id FROM outbox_events');
        expect(events).toEqual([{ type: 'log_entry_created', entity_id: entryId }]);
        const [subject] = await source.records(ours, BASE).loadPostSubjects([{ type: 'log_entry_created', entityType: 'log_entry', entityId: entryId }]);
        expect(subject).toMatchObject({ text: 'Replaced the rubbers', maintainerNames: ['Pat'], machine: { name: 'Gorgar' } });
      } finally {
        await ours.close();
      }

      // Records written while attached stay; our rows go with our schema.
      const result = await detachFlipfix(roleUrl, FLIPFIX_SCHEMA);
      expect(result.removed).toBe(true);
      expect(result.triggers).toEqual(
        expect.arrayContaining(['maintenance_logentry.flipfix_notify_created', 'maintenance_problemreport.flipfix_notify_status', 'parts_partrequestupdate.flipfix_notify_created']),
      );

      expect(await schemaDump(url)).toBe(before);
      expect(await history()).toEqual(historyBefore);
      const { rows } = await django.pool.query('SELECT text FROM maintenance_logentry WHERE id = $1', [entryId]);
      expect(rows).toEqual([{ text: 'Replaced the rubbers' }]);
      // Django keeps working without us: a save after detaching needs nothing of ours.
      await django.logEntry({ machineId, text: 'After detach', maintainerNames: 'Pat' });
      expect((await detachFlipfix(roleUrl, FLIPFIX_SCHEMA)).removed).toBe(false);
    } finally {
      await django.close();
    }
  });
});
