/**
 * Rate limits: a channel's backlog waits as delayed jobs (no worker slot
 * held), other channels keep flowing, and a 429 from Discord is waited out.
 */
import { afterEach, expect, it } from 'vitest';
import { createLogEntry, createMachine, updateSettings } from '@flipfix/db';
import { startStack, waitFor, type Stack } from './harness';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

it('a rate-limited channel does not block the others, and nothing trips a 429', async () => {
  // Discord-like limits at the simulator; only 2 worker slots.
  stack = await startStack({ sim: { rateLimits: { perChannel: { limit: 5, windowMs: 2000 } } }, worker: { concurrency: 2 } });
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'Attack from Mars', shortName: 'AFM' });
  const other = s.sim.createChannel({ name: 'other' });
  for (let i = 0; i < 12; i++) await createLogEntry(s.db.prisma, { machineId: machine.id, text: `busy ${i}` });
  // Wait until the busy channel is saturated (its first window used up).
  await waitFor(() => s.sim.messages(s.sim.channelId).length >= 5);

  const v = await updateSettings(s.db.prisma, { events: { part_request_created: { enabled: true, channelId: other.id } } }, 'test');
  await waitFor(() => s.worker.settings.current.version === v.version);
  const started = Date.now();
  await s.db.prisma.partRequest.create({ data: { text: 'Goes to the quiet channel' } });
  await waitFor(() => s.sim.messages(other.id).length === 1, { what: 'quiet channel post' });
  const quietMs = Date.now() - started;
  // The busy channel still has a backlog: its jobs wait as delayed jobs, not in the 2 slots.
  expect(s.sim.messages(s.sim.channelId).length).toBeLessThan(12);
  expect(quietMs).toBeLessThan(1500);

  await waitFor(() => s.sim.messages(s.sim.channelId).length === 12, { timeoutMs: 20_000, what: 'backlog drained' });
  expect(s.sim.stats().rateLimited).toBe(0);
  expect(await s.db.prisma.delivery.count({ where: { status: 'delivered' } })).toBe(13);
}, 40_000);

it('a 429 from Discord is waited out and the post delivered once', async () => {
  // The worker assumes a looser limit than the simulator enforces, so the burst draws 429s.
  stack = await startStack({
    sim: { rateLimits: { perChannel: { limit: 2, windowMs: 1500 } } },
    worker: { rateLimits: { defaultChannel: { limit: 100, windowMs: 1000 } } },
  });
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'The Addams Family', shortName: 'TAF' });
  await s.db.prisma.$transaction(
    Array.from({ length: 6 }, (_, i) => s.db.prisma.logEntry.create({ data: { machineId: machine.id, text: `burst ${i}` } })),
  );
  await waitFor(() => s.sim.messages(s.sim.channelId).length === 6, { timeoutMs: 20_000, what: 'burst delivered' });
  expect(s.sim.stats().rateLimited).toBeGreaterThan(0);
  const rows = await s.db.prisma.delivery.findMany();
  expect(rows.every((r) => r.status === 'delivered')).toBe(true);
  const texts = s.sim.messages(s.sim.channelId).map((m) => JSON.stringify(m.embeds));
  expect(new Set(texts).size).toBe(6);
}, 40_000);
