/**
 * The outbox triggers: any writer's insert (plain SQL here) produces exactly
 * one event in the same transaction, and the relay is woken by NOTIFY.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, OUTBOX_CHANNEL, type TestDatabase } from '../src/index.ts';
import { baseUrl, type Listener, listen } from './helpers.ts';

let t: TestDatabase;
let listener: Listener;
let machineId: number;

beforeAll(async () => {
  t = await createTestDatabase({ baseUrl });
  listener = await listen(t.url, OUTBOX_CHANNEL);
  const { rows } = await t.db.pool.query<{ id: number }>(
    `INSERT INTO machines (name, short_name) VALUES ('Twilight Zone', 'TZ') RETURNING id`,
  );
  machineId = rows[0]!.id;
});
afterAll(async () => {
  await listener?.close();
  await t?.drop();
});

interface EventRow {
  id: string;
  type: string;
  entity_type: string;
  entity_id: number;
  actor_name: string | null;
  payload: Record<string, unknown>;
  status: string;
}

async function eventsFor(entityType: string, entityId: number): Promise<EventRow[]> {
  const { rows } = await t.db.pool.query<EventRow>(
    'SELECT * FROM outbox_events WHERE entity_type = $1 AND entity_id = $2 ORDER BY created_at, id',
    [entityType, entityId],
  );
  return rows;
}

async function insert(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await t.db.pool.query<{ id: number }>(`${sql} RETURNING id`, params);
  return rows[0]!.id;
}

describe('outbox triggers on plain SQL inserts', () => {
  it('problem report: one problem_report_created, actor = reporter name, else contact; a NOTIFY wakes the relay', async () => {
    await listener.quiet();
    const before = listener.payloads.length;
    const named = await insert(
      `INSERT INTO problem_reports (machine_id, description, reporter_name, reporter_contact, priority) VALUES ($1, 'Left flipper weak', 'Sam', 'sam@example.org', 'major')`,
      [machineId],
    );
    const [event, ...more] = await eventsFor('problem_report', named);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: 'problem_report_created',
      entity_type: 'problem_report',
      entity_id: named,
      actor_name: 'Sam',
      status: 'pending',
      payload: { machine_id: machineId, priority: 'major', problem_type: 'other', status: 'open' },
    });
    await listener.received(before + 1);
    // A wake-up call only: the relay claims whatever is pending.
    expect(listener.payloads.at(-1)).toBe('');

    const contactOnly = await insert(
      `INSERT INTO problem_reports (machine_id, description, reporter_contact) VALUES ($1, 'No sound', 'visitor@example.org')`,
      [machineId],
    );
    expect((await eventsFor('problem_report', contactOnly))[0]?.actor_name).toBe('visitor@example.org');
    const anonymous = await insert(
      `INSERT INTO problem_reports (machine_id, description, reporter_name) VALUES ($1, 'Tilt', '  ')`,
      [machineId],
    );
    expect((await eventsFor('problem_report', anonymous))[0]?.actor_name).toBeNull();
  });

  it('log entry: actor = maintainer names joined with ", "', async () => {
    await listener.quiet();
    const before = listener.payloads.length;
    const id = await insert(
      `INSERT INTO log_entries (machine_id, text, maintainer_names) VALUES ($1, 'Rebuilt flippers', ARRAY['Ada', 'Grace'])`,
      [machineId],
    );
    const events = await eventsFor('log_entry', id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'log_entry_created',
      actor_name: 'Ada, Grace',
      payload: { machine_id: machineId, problem_report_id: null },
    });
    await listener.received(before + 1);
  });

  it('part request and update: requester / poster as actor; an update with new_status sets the request status', async () => {
    const requestId = await insert(`INSERT INTO part_requests (text, requested_by_name) VALUES ('Coil', 'Lin')`, []);
    const [created] = await eventsFor('part_request', requestId);
    expect(created).toMatchObject({ type: 'part_request_created', actor_name: 'Lin', payload: { machine_id: null } });

    const updateId = await insert(
      `INSERT INTO part_request_updates (part_request_id, text, new_status, posted_by_name) VALUES ($1, 'Ordered', 'ordered', 'Kim')`,
      [requestId],
    );
    const events = await eventsFor('part_request_update', updateId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'part_request_update_created',
      actor_name: 'Kim',
      payload: { part_request_id: requestId, new_status: 'ordered' },
    });
    const { rows } = await t.db.pool.query('SELECT status FROM part_requests WHERE id = $1', [requestId]);
    expect(rows[0]).toEqual({ status: 'ordered' });
    // The status change itself is not a separate event (Flipfix #208: one action, one post).
    expect(await eventsFor('part_request', requestId)).toHaveLength(1);
  });

  it('status change: one problem_report_status_changed {from, to}; same-status and other-column updates emit nothing', async () => {
    await listener.quiet();
    const before = listener.payloads.length;
    const id = await insert(`INSERT INTO problem_reports (machine_id, description) VALUES ($1, 'Drop target stuck')`, [
      machineId,
    ]);
    await t.db.pool.query(`UPDATE problem_reports SET status = 'closed' WHERE id = $1`, [id]);
    await t.db.pool.query(`UPDATE problem_reports SET status = 'closed' WHERE id = $1`, [id]);
    await t.db.pool.query(`UPDATE problem_reports SET priority = 'minor' WHERE id = $1`, [id]);
    const changes = (await eventsFor('problem_report', id)).filter((e) => e.type === 'problem_report_status_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ actor_name: null, payload: { from: 'open', to: 'closed', machine_id: machineId } });
    // One for the report's creation, one for its status change.
    await listener.received(before + 2);
  });

  it('a rolled-back write leaves no event and sends no NOTIFY', async () => {
    await listener.quiet();
    const before = listener.payloads.length;
    const client = await t.db.pool.connect();
    let id: number;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO part_requests (text) VALUES ('never happened') RETURNING id`,
      );
      id = rows[0]!.id;
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    // NOTIFYs arrive in commit order: once a later write's has arrived, a rolled-back one would have too.
    const after = await insert(`INSERT INTO part_requests (text) VALUES ('happened')`, []);
    expect(await eventsFor('part_request', after)).toHaveLength(1);
    await listener.received(before + 1);
    await listener.quiet();
    expect(listener.payloads.length).toBe(before + 1);
    expect(await eventsFor('part_request', id)).toEqual([]);
  });

  it('a 200-row INSERT writes 200 events and sends one NOTIFY', async () => {
    await listener.quiet();
    const before = listener.payloads.length;
    const { rows } = await t.db.pool.query<{ id: number }>(
      `INSERT INTO log_entries (machine_id, text) SELECT $1, 'row ' || i FROM generate_series(1, 200) AS i RETURNING id`,
      [machineId],
    );
    const { rows: events } = await t.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox_events WHERE entity_type = 'log_entry' AND entity_id = ANY($1::int[])`,
      [rows.map((r) => r.id)],
    );
    expect(events[0]!.n).toBe(200);
    await listener.received(before + 1);
    await listener.quiet();
    expect(listener.payloads.length).toBe(before + 1);
  });

  it('photos written after the record in the same transaction are there when the event becomes visible', async () => {
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO log_entries (machine_id, text) VALUES ($1, 'with photos') RETURNING id`,
        [machineId],
      );
      const id = rows[0]!.id;
      await client.query(`INSERT INTO photos (url, position, log_entry_id) VALUES ('https://img.example/1.jpg', 0, $1)`, [id]);
      const [event] = await eventsFor('log_entry', id);
      expect(event).toBeUndefined(); // not visible outside the transaction yet
      await client.query('COMMIT');
      expect(await eventsFor('log_entry', id)).toHaveLength(1);
      const photos = await t.db.pool.query('SELECT url FROM photos WHERE log_entry_id = $1', [id]);
      expect(photos.rows).toEqual([{ url: 'https://img.example/1.jpg' }]);
    } finally {
      client.release();
    }
  });
});
