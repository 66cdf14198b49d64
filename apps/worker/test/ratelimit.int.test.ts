/**
 * Rate limits: a channel's backlog waits as delayed jobs (no worker slot
 * held), other channels keep flowing, and a 429 from Discord is waited out.
 */
import { afterEach, expect, it } from 'vitest';
import { createLogEntry, createMachine, updateSettings } from '@flipfix/db';
import { embedsOf, startStack, waitFor, type Stack } from './harness';

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
  // More than a window can carry (4 single posts + a batch of 10 under its last slot), so a backlog is left.
  for (let i = 0; i < 20; i++) await createLogEntry(s.db.prisma, { machineId: machine.id, text: `busy ${i}` });
  // Wait until the busy channel is saturated (its first window used up).
  await waitFor(() => s.sim.messages(s.sim.channelId).length >= 5);
  const embedsIn = (channelId: string) => s.sim.messages(channelId).reduce((n, m) => n + m.embeds.length, 0);

  const v = await updateSettings(s.db.prisma, { events: { part_request_created: { enabled: true, channelId: other.id } } }, 'test');
  await waitFor(() => s.worker.settings.current.version === v.version);
  const started = Date.now();
  await s.db.prisma.partRequest.create({ data: { text: 'Goes to the quiet channel' } });
  await waitFor(() => s.sim.messages(other.id).length === 1, { what: 'quiet channel post' });
  const quietMs = Date.now() - started;
  // The busy channel still has a backlog: its jobs wait as delayed jobs, not in the 2 slots.
  expect(embedsIn(s.sim.channelId)).toBeLessThan(20);
  expect(quietMs).toBeLessThan(1500);

  // The backlog drains, packed into fewer messages than events (flood batching).
  await waitFor(() => embedsIn(s.sim.channelId) === 20, { timeoutMs: 20_000, what: 'backlog drained' });
  expect(s.sim.messages(s.sim.channelId).length).toBeLessThan(20);
  expect(s.sim.stats().rateLimited).toBe(0);
  await waitFor(async () => (await s.db.prisma.delivery.count({ where: { status: 'delivered' } })) === 21, { what: 'ledger' });
}, 40_000);

it('a rate-limit answer (429) is waited out and each post delivered once', async () => {
  // The worker assumes a looser limit than the simulator enforces, so the burst draws 429s.
  stack = await startStack({
    sim: { rateLimits: { perChannel: { limit: 2, windowMs: 1500 } } },
    worker: { rateLimits: { defaultChannel: { limit: 100, windowMs: 1000 } } },
  });
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'The Addams Family', shortName: 'TAF' });
  // Another client (say, a second bot process without the shared limiter)
  // uses up the channel's bucket, so the worker's first request draws a 429.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${s.sim.apiUrl}/v10/channels/${s.sim.channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${s.sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: `other client ${i}` }),
    });
    expect(res.status).toBe(200);
  }
  await s.db.prisma.$transaction(
    Array.from({ length: 6 }, (_, i) => s.db.prisma.logEntry.create({ data: { machineId: machine.id, text: `burst ${i}` } })),
  );
  await waitFor(async () => (await s.db.prisma.delivery.count({ where: { status: 'delivered' } })) === 6, {
    timeoutMs: 20_000,
    what: 'burst delivered',
  });
  expect(s.sim.stats().rateLimited).toBeGreaterThan(0);
  expect((await s.worker.metrics.discord429.get()).values[0]?.value).toBeGreaterThan(0);
  const descriptions = s.sim.messages(s.sim.channelId).flatMap((m) => embedsOf(m).map((e) => e.description ?? ''));
  for (let i = 0; i < 6; i++) expect(descriptions.filter((d) => d.startsWith(`burst ${i}`))).toHaveLength(1);
}, 40_000);
