/**
 * The worker SIGKILLed mid-delivery and restarted: every event delivered,
 * none twice (BullMQ takes the interrupted jobs over; the Discord nonce and
 * the ledger keep the retried post from doubling).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogEntry, createMachine, createTestDatabase, type TestDatabase } from '@flipfix/db';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { nonceFor } from '@flipfix/discord';
import { deleteRedisPrefix, embedsOf, waitFor } from './harness';
import { processEnv, processPrefix, spawnWorker, type WorkerProcess } from './process';

let tdb: TestDatabase;
let sim: Simulator;
const prefix = processPrefix();
const procs: WorkerProcess[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  // Generous limits, learned by the worker from the headers.
  sim = await startSimulator({ port: 0, rateLimits: { perChannel: { limit: 50, windowMs: 1000 } } });
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await sim?.close();
  await tdb?.drop();
  await deleteRedisPrefix(prefix);
});

function start(): WorkerProcess {
  const p = spawnWorker({
    ...processEnv({ databaseUrl: tdb.url, prefix, sim }),
    DELIVERY_BACKOFF_MS: '100',
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    RECONCILE_AFTER_SECONDS: '3',
    WORKER_CONCURRENCY: '10',
  });
  procs.push(p);
  return p;
}

it('delivers every event exactly once across a SIGKILL', async () => {
  const machine = await createMachine(tdb.db.prisma, { name: 'Medieval Madness', shortName: 'MM' });
  // Slow answers keep requests in flight when the kill lands.
  sim.injectFaults({ latencyMs: 150 });
  const first = start();
  await first.ready;
  const N = 40;
  for (let i = 0; i < N; i++) await createLogEntry(tdb.db.prisma, { machineId: machine.id, text: `crash-test entry ${i}` });

  await waitFor(() => sim.messages(sim.channelId).length >= 5, { what: 'first posts' });
  first.child.kill('SIGKILL');
  await first.exited;
  const posted = sim.messages(sim.channelId).length;
  expect(posted).toBeLessThan(N);

  sim.clearFaults();
  const second = start();
  await second.ready;
  await waitFor(
    async () => (await tdb.db.prisma.delivery.count({ where: { status: 'delivered' } })) === N,
    { timeoutMs: 30_000, what: 'all deliveries delivered' },
  ).catch(async (err) => {
    const rows = await tdb.db.prisma.delivery.groupBy({ by: ['status', 'lastError'], _count: true });
    const events = await tdb.db.prisma.outboxEvent.groupBy({ by: ['status'], _count: true });
    const stuck = await tdb.db.prisma.delivery.findMany({
      where: { status: { not: 'delivered' } },
      select: { id: true, batchId: true, attempts: true, status: true },
    });
    const leaders = await tdb.db.prisma.delivery.findMany({
      where: { id: { in: stuck.map((d) => d.batchId).filter((x): x is string => !!x) } },
      select: { id: true, batchId: true, status: true, discordMessageId: true },
    });
    console.error(JSON.stringify({ stuck, leaders }, null, 1));
    throw new Error(`${err}\n${JSON.stringify({ rows, events })}\n${second.output.join('').slice(-3000)}`);
  });
  const texts = sim.messages(sim.channelId).flatMap((m) => embedsOf(m).map((e) => e.description ?? ''));
  if (process.env.DEBUG_CRASH) {
    const rows = await tdb.db.prisma.delivery.findMany({ include: { event: true }, orderBy: { event: { seq: 'asc' } } });
    console.error(rows.map((r) => [r.event.entityId, r.id.slice(0, 8), nonceFor(r.id).slice(0, 6), r.batchId?.slice(0, 8), r.discordMessageId, r.embedIndex, r.attempts].join(' ')).join('\n'));
    console.error(sim.messages(sim.channelId).map((m) => `${m.id} nonce=${String(m.nonce)} ${embedsOf(m).map((e) => e.description?.slice(17, 19)).join(',')}`).join('\n'));
  }
  for (let i = 0; i < N; i++) {
    expect(texts.filter((t) => t.startsWith(`crash-test entry ${i}\n`) || t === `crash-test entry ${i}`).length, `entry ${i}`).toBe(1);
  }
  // Every embed is one of the entries (batching may have packed several per message).
  expect(texts).toHaveLength(N);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 90_000);
