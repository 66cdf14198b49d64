/**
 * The web app attached to a Flipfix database (SOURCE=flipfix): the console
 * and the admin API run on our schema inside Flipfix's database; the domain
 * API and record pages are Flipfix's own, so ours are not served.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '@flipfix/db';
import { createFlipfixSource } from '@flipfix/source-flipfix';
import { createFlipfixTestDatabase, DjangoWriter } from '@flipfix/source-flipfix/testing';
import { call, login, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

const FLIPFIX_SITE = 'https://flipfix.example.org';

let tdb: TestDatabase;
let web: TestWeb;

beforeAll(async () => {
  tdb = await createFlipfixTestDatabase();
  web = await startTestWeb({ database: tdb, domain: false, config: { recordUrl: createFlipfixSource().records(tdb.db, FLIPFIX_SITE).recordUrl } });
});
afterAll(async () => {
  await web?.close();
  await tdb?.drop();
});

it('serves the admin API on our schema: settings read and change', async () => {
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const patched = await call(web.url, 'PATCH', '/api/admin/settings', { events: { part_request_created: { enabled: false } } }, auth);
  expect(patched.status).toBe(200);
  const read = await call(web.url, 'GET', '/api/admin/settings', undefined, auth);
  expect((read.body as { events: Record<string, { enabled: boolean }> }).events.part_request_created?.enabled).toBe(false);
  const { rows } = await tdb.db.pool.query<{ schemaname: string }>(`SELECT schemaname FROM pg_tables WHERE tablename = 'settings'`);
  expect(rows).toEqual([{ schemaname: 'flipfix_notify' }]);
});

it("leaves records to Flipfix: no domain API, and / leads to the console", async () => {
  expect((await fetch(`${web.url}/api/machines`)).status).toBe(404);
  const home = await fetch(`${web.url}/`, { redirect: 'manual' });
  expect(home.status).toBe(302);
  expect(home.headers.get('location')).toBe('/admin');
});

it("links each event in the delivery log to the record's page in Flipfix", async () => {
  const django = new DjangoWriter(tdb.url);
  try {
    const machineId = await django.machine({ name: 'Black Knight', slug: 'black-knight' });
    const entryId = await django.logEntry({ machineId, text: 'Adjusted the magna-save', maintainerNames: 'Pat' });
    const { cookie } = await login(web.url);
    const page = await (await fetch(`${web.url}/admin/deliveries`, { headers: { cookie } })).text();
    expect(page).toContain(`href="${FLIPFIX_SITE}/logs/${entryId}/"`);
  } finally {
    await django.close();
  }
});
