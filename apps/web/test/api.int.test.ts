import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

let web: TestWeb;
let machineId: number;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(web.url, method, path, body, headers);

beforeAll(async () => {
  web = await startTestWeb();
  const res = await api('POST', '/api/machines', { name: 'Godzilla (Premium)', shortName: 'Godzilla', location: 'Back row' });
  expect(res.status).toBe(201);
  machineId = res.body.id;
});
afterAll(async () => {
  await web?.close();
});

describe('machines', () => {
  it('creates, lists and reads machines', async () => {
    const list = await api('GET', '/api/machines');
    expect(list.status).toBe(200);
    expect(list.body.items.map((m: { name: string }) => m.name)).toContain('Godzilla (Premium)');
    const one = await api('GET', `/api/machines/${machineId}`);
    expect(one.body).toMatchObject({ id: machineId, shortName: 'Godzilla', location: 'Back row', operationalStatus: 'unknown' });
  });

  it('answers 409 with the field for a duplicate name', async () => {
    const res = await api('POST', '/api/machines', { name: 'Godzilla (Premium)' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'conflict', fields: { name: expect.any(String) } });
  });
});

describe('problem reports', () => {
  it('files a report with photos and reads it back, newest first in the list', async () => {
    const created = await api('POST', '/api/problem-reports', {
      machineId,
      description: 'Ball stuck in the pop bumpers',
      problemType: 'stuck_ball',
      priority: 'major',
      reporterName: 'Visitor',
      reporterContact: 'visitor@example.com',
      photoUrls: ['https://example.com/a.jpg', 'http://example.com/b.png'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/problem-reports/${created.body.id}`);
    expect(created.body).toMatchObject({
      machineId,
      machine: { id: machineId, shortName: 'Godzilla' },
      status: 'open',
      problemType: 'stuck_ball',
      priority: 'major',
      photoUrls: ['https://example.com/a.jpg', 'http://example.com/b.png'],
    });
    // A visitor's contact details are not public.
    expect(created.body).not.toHaveProperty('reporterContact');
    const second = await api('POST', '/api/problem-reports', { machineId, description: 'No credits' });
    expect(second.body).toMatchObject({ problemType: 'other', priority: 'untriaged', reporterName: null, photoUrls: [] });
    const list = await api('GET', '/api/problem-reports?limit=1');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].id).toBe(second.body.id);
    const one = await api('GET', `/api/problem-reports/${created.body.id}`);
    expect(one.body.description).toBe('Ball stuck in the pop bumpers');
  });

  it('accepts a 20 000 character description and refuses a longer one', async () => {
    const ok = await api('POST', '/api/problem-reports', { machineId, description: 'x'.repeat(20_000) });
    expect(ok.status).toBe(201);
    const tooLong = await api('POST', '/api/problem-reports', { machineId, description: 'x'.repeat(20_001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ error: 'invalid_request', fields: { description: 'must be at most 20000 characters' } });
  });

  it('closing writes the "Closed problem report" log entry, once', async () => {
    const report = (await api('POST', '/api/problem-reports', { machineId, description: 'Left flipper weak' })).body;
    const closed = await api('PATCH', `/api/problem-reports/${report.id}`, { status: 'closed', actorName: 'Maint Mary' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', changed: true, logEntryId: expect.any(Number) });
    const entry = await api('GET', `/api/log-entries/${closed.body.logEntryId}`);
    expect(entry.body).toMatchObject({ text: 'Closed problem report', problemReportId: report.id, maintainerNames: ['Maint Mary'] });
    const again = await api('PATCH', `/api/problem-reports/${report.id}`, { status: 'closed' });
    expect(again.body).toMatchObject({ changed: false, logEntryId: null });
    const reopened = await api('PATCH', `/api/problem-reports/${report.id}`, { status: 'open' });
    expect(reopened.body.status).toBe('open');
  });

  it('refuses bad input with the field at fault', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ description: 'no machine' }, 'machineId', /required/],
      [{ machineId, description: 'x', problemType: 'tilt' }, 'problemType', /must be one of: stuck_ball, no_credits, other/],
      [{ machineId, description: '' }, 'description', /empty/],
      [{ machineId, description: 'x', photoUrls: ['javascript:alert(1)'] }, 'photoUrls.0', /http/],
      [{ machineId, description: 'x', photoUrls: Array.from({ length: 11 }, (_, i) => `https://e.com/${i}.jpg`) }, 'photoUrls', /10/],
      [{ machineId: 'seven', description: 'x' }, 'machineId', /number/],
      [{ machineId, description: 'x', extra: 1 }, 'extra', /unknown/],
      [{ machineId: 999_999, description: 'x' }, 'machineId', /not found/],
    ];
    for (const [body, field, reason] of cases) {
      const res = await api('POST', '/api/problem-reports', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.fields[field], field).toMatch(reason);
    }
    const badStatus = await api('PATCH', '/api/problem-reports/1', { status: 'resolved' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.fields.status).toMatch(/open, closed/);
  });
});

describe('log entries and part requests', () => {
  it('writes a log entry linked to a report and lists it', async () => {
    const report = (await api('POST', '/api/problem-reports', { machineId, description: 'Drop target stuck' })).body;
    const res = await api('POST', '/api/log-entries', {
      machineId,
      text: 'Replaced the drop target spring',
      problemReportId: report.id,
      maintainerNames: ['Ann', 'Bo'],
      photoUrls: ['https://example.com/spring.jpg'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ problemReportId: report.id, maintainerNames: ['Ann', 'Bo'], photoUrls: ['https://example.com/spring.jpg'] });
    const list = await api('GET', '/api/log-entries');
    expect(list.body.items[0].id).toBe(res.body.id);
    const tooLong = await api('POST', '/api/log-entries', { machineId, text: 'y'.repeat(20_001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.fields.text).toMatch(/at most 20000/);
  });

  it('opens a part request, posts an update that sets the status, and reads both', async () => {
    const request = await api('POST', '/api/part-requests', { text: 'Flipper coil', machineId, requestedByName: 'Cy' });
    expect(request.status).toBe(201);
    expect(request.body).toMatchObject({ status: 'requested', machineId });
    const noMachine = await api('POST', '/api/part-requests', { text: 'Rubber kit' });
    expect(noMachine.body).toMatchObject({ machineId: null, machine: null });
    const update = await api('POST', `/api/part-requests/${request.body.id}/updates`, {
      text: 'Ordered from Marco',
      newStatus: 'ordered',
      postedByName: 'Cy',
    });
    expect(update.status).toBe(201);
    expect(update.body).toMatchObject({ partRequestId: request.body.id, newStatus: 'ordered', requestStatus: 'ordered' });
    expect((await api('GET', `/api/part-requests/${request.body.id}`)).body.status).toBe('ordered');
    expect((await api('GET', `/api/part-request-updates/${update.body.id}`)).body.text).toBe('Ordered from Marco');
    const updates = await api('GET', `/api/part-requests/${request.body.id}/updates`);
    expect(updates.body.items.map((u: { id: number }) => u.id)).toEqual([update.body.id]);
    const lists = await api('GET', '/api/part-requests?limit=5');
    expect(lists.body.items[0].id).toBe(noMachine.body.id);
    const badStatus = await api('POST', `/api/part-requests/${request.body.id}/updates`, { text: 'x', newStatus: 'lost' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.fields.newStatus).toMatch(/requested, ordered, received, cancelled/);
    const unknown = await api('POST', '/api/part-requests/999999/updates', { text: 'x' });
    expect(unknown.status).toBe(404);
  });
});

describe('errors', () => {
  it('answers 404 for unknown and non-numeric ids', async () => {
    for (const path of [
      '/api/machines/999999',
      '/api/machines/abc',
      '/api/problem-reports/999999',
      '/api/problem-reports/1e3',
      '/api/log-entries/0',
      '/api/part-requests/-1',
      '/api/part-request-updates/99999999999',
      '/api/nothing-here',
    ]) {
      const res = await api('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error, path).toBe('not_found');
    }
    expect((await api('PATCH', '/api/problem-reports/abc', { status: 'closed' })).status).toBe(404);
  });

  it('answers 400 for malformed JSON and 413 for a body over 1 MB, never 500', async () => {
    const malformed = await api('POST', '/api/problem-reports', '{"machineId": 1,', {});
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'invalid_request', fields: { body: 'malformed JSON' } });
    const huge = await api('POST', '/api/problem-reports', { machineId, description: 'z'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe('payload_too_large');
    const notObject = await api('POST', '/api/machines', '[1,2]');
    expect(notObject.status).toBe(400);
  });

  it('never shows a stack trace', async () => {
    const res = await api('POST', '/api/log-entries', { machineId, text: 'x', problemReportId: 2_147_483_647 });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('admin API', () => {
  const bearer = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  it('refuses without a token and with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TEST_ADMIN_TOKEN }]) {
      for (const [method, path] of [
        ['GET', '/api/admin/settings'],
        ['PATCH', '/api/admin/settings'],
        ['GET', '/api/admin/settings/audit'],
        ['GET', '/api/admin/events'],
        ['POST', '/api/admin/deliveries/redeliver-failed'],
      ] as const) {
        const res = await api(method, path, method === 'PATCH' ? { deliveryMode: 'both' } : undefined, headers);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.body.error).toBe('unauthorized');
      }
    }
    expect((await api('GET', '/api/admin/settings', undefined, bearer)).body.deliveryMode).toBe('bot');
  });

  it('merges settings PATCHes and audits each change', async () => {
    const first = await api('PATCH', '/api/admin/settings', { events: { part_request_created: { enabled: false } } }, bearer);
    expect(first.status).toBe(200);
    expect(first.body.events.part_request_created).toEqual({ enabled: false, channelId: null });
    const second = await api('PATCH', '/api/admin/settings', { deliveryMode: 'both' }, bearer);
    expect(second.body.deliveryMode).toBe('both');
    // The first change survives the second: a merge, not a replace.
    expect(second.body.events.part_request_created.enabled).toBe(false);
    expect(second.body.events.log_entry_created.enabled).toBe(true);
    const audit = await api('GET', '/api/admin/settings/audit', undefined, bearer);
    expect(audit.body.items.slice(0, 2)).toMatchObject([
      { actor: 'api', field: 'deliveryMode', from: 'bot', to: 'both' },
      { actor: 'api', field: 'events.part_request_created.enabled', from: true, to: false },
    ]);
    const bad = await api('PATCH', '/api/admin/settings', { deliveryMode: 'carrier-pigeon' }, bearer);
    expect(bad.status).toBe(400);
    expect(bad.body.fields.deliveryMode).toBeDefined();
    const unknownKey = await api('PATCH', '/api/admin/settings', { events: { nope: { enabled: false } } }, bearer);
    expect(unknownKey.status).toBe(400);
    await api('PATCH', '/api/admin/settings', { deliveryMode: 'bot', events: { part_request_created: { enabled: true } } }, bearer);
  });

  it('lists events with their deliveries and redelivers a failed one', async () => {
    const report = (await api('POST', '/api/problem-reports', { machineId, description: 'Redeliver me' })).body;
    const event = await web.db.prisma.outboxEvent.findFirstOrThrow({ where: { entityType: 'problem_report', entityId: report.id } });
    const delivery = await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'bot', targetKey: '1100000000000000001', status: 'failed', attempts: 1, lastError: 'the bot lacks Send Messages', errorClass: 'permanent:permission' },
    });
    const events = await api('GET', '/api/admin/events?status=failed&type=problem_report_created', undefined, bearer);
    expect(events.status).toBe(200);
    const found = events.body.items.find((e: { id: string }) => e.id === event.id);
    expect(found.deliveries[0]).toMatchObject({ id: delivery.id, target: 'bot', status: 'failed', attempts: 1, errorClass: 'permanent:permission' });
    const badFilter = await api('GET', '/api/admin/events?status=lost', undefined, bearer);
    expect(badFilter.status).toBe(400);

    const res = await api('POST', `/api/admin/deliveries/${delivery.id}/redeliver`, undefined, bearer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: delivery.id, status: 'pending', enqueued: true });
    const row = await web.db.prisma.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(row.status).toBe('pending');
    expect(row.lastError).toMatch(/redelivery requested by api .*was failed: the bot lacks Send Messages/);
    const job = await web.queues.bot.getJob(`d-${delivery.id}`);
    expect(job?.data).toEqual({ deliveryIds: [delivery.id] });

    await web.db.prisma.delivery.update({ where: { id: delivery.id }, data: { status: 'delivered' } });
    const conflict = await api('POST', `/api/admin/deliveries/${delivery.id}/redeliver`, undefined, bearer);
    expect(conflict.status).toBe(409);
    const forced = await api('POST', `/api/admin/deliveries/${delivery.id}/redeliver?force=true`, undefined, bearer);
    expect(forced.status).toBe(200);
    expect((await api('POST', '/api/admin/deliveries/00000000-0000-0000-0000-000000000000/redeliver', undefined, bearer)).status).toBe(404);
    expect((await api('POST', '/api/admin/deliveries/not-a-uuid/redeliver', undefined, bearer)).status).toBe(404);

    await web.db.prisma.delivery.update({ where: { id: delivery.id }, data: { status: 'failed' } });
    const all = await api('POST', '/api/admin/deliveries/redeliver-failed', undefined, bearer);
    expect(all.body).toEqual({ count: 1, ids: [delivery.id] });
  });
});

describe('health', () => {
  it('reports Postgres, Redis and queue depths', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      reasons: [],
      checks: { postgres: { ok: true }, redis: { ok: true }, queues: { ok: true, depths: { 'bot-deliveries': expect.any(Object), 'webhook-deliveries': expect.any(Object), digests: expect.any(Object) } } },
    });
  });
});
