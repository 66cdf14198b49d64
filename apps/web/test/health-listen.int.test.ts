/**
 * /health says whether LISTEN works on the web app's DATABASE_URL: directly
 * it does; through a real PgBouncer in transaction mode it cannot, which
 * /health reports without calling the service down (the relay polls).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createTestDatabase, type Db, type TestDatabase } from '@flipfix/db';
import { hasPgBouncer, type PgBouncerRig, startPgBouncer } from '@flipfix/testing';
import { call, startTestWeb, type TestWeb } from './helpers';

describe('/health outboxListen, direct to Postgres', () => {
  let web: TestWeb;
  beforeAll(async () => {
    web = await startTestWeb();
  });
  afterAll(async () => {
    await web?.close();
  });

  it('reports that NOTIFY arrives', async () => {
    const res = await call(web.url, 'GET', '/health');
    expect(res.body.checks.outboxListen).toMatchObject({ ok: true, listen: true });
  });
});

describe.skipIf(!hasPgBouncer)('/health outboxListen, through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncerRig;
  let tdb: TestDatabase;
  let pooled: Db;
  let web: TestWeb;
  beforeAll(async () => {
    bouncer = await startPgBouncer({ poolMode: 'transaction' });
    tdb = await createTestDatabase();
    pooled = createDb({ databaseUrl: bouncer.urlFor(tdb.url), max: 5 });
    web = await startTestWeb({ database: { url: bouncer.urlFor(tdb.url), db: pooled } });
  });
  afterAll(async () => {
    await web?.close();
    await pooled?.close();
    await tdb?.drop();
    await bouncer?.stop();
  });

  it('reports LISTEN unavailable and polling, without calling the service down', async () => {
    const res = await call(web.url, 'GET', '/health');
    expect(res.body.checks.outboxListen).toMatchObject({ ok: true, listen: false });
    expect(res.body.checks.outboxListen.message).toMatch(/LISTEN is unavailable.*polls/);
    expect(res.body.checks.postgres.ok).toBe(true);
    expect(res.body.reasons).toEqual([]);
  });
});
