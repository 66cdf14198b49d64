/**
 * The web app attached to a Flipfix database (SOURCE=flipfix): the console
 * and the admin API run on our schema inside Flipfix's database; the domain
 * API and record pages are Flipfix's own, so ours are not served.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '@flipfix/db';
import { createFlipfixTestDatabase } from '@flipfix/source-flipfix/testing';
import { call, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

let tdb: TestDatabase;
let web: TestWeb;

beforeAll(async () => {
  tdb = await createFlipfixTestDatabase();
  web = await startTestWeb({ database: tdb, domain: false });
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
