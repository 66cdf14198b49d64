/**
 * The relay's and the settings cache's LISTEN connections go back to the pool
 * on close(); when such a pooled connection dies later (a database restart,
 * a dropped database), nothing may act on it as a listener again (pg-pool
 * throws on a second release, which would crash the process).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@flipfix/db';
import { createLogger } from '@flipfix/logger';
import { waitFor } from '@flipfix/testing';
import { OutboxRelay } from './relay';
import { SettingsCache } from './settings-cache';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

it('a listener released by close() that dies later in the pool is left alone', async () => {
  const log = createLogger({ name: 'listeners-test', level: 'silent' });
  const relay = new OutboxRelay({ pool: t.db.pool, log, route: async () => [], enqueue: async () => {} });
  const settings = new SettingsCache({ prisma: t.db.prisma, pool: t.db.pool, log });
  await relay.start();
  await settings.start();
  await relay.close();
  await settings.close();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const idle = t.db.pool.idleCount;
    expect(idle).toBeGreaterThanOrEqual(2);
    // Kill every other connection of this database: the two former listeners sit idle in the pool.
    await t.db.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    // The pool drops a dead idle client once pg reports the loss: then it holds only the live one.
    await waitFor(() => t.db.pool.totalCount === 1, { what: 'dead clients dropped by the pool' });
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  expect(uncaught).toEqual([]);
});
