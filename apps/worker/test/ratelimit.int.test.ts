/**
 * Rate limits: a channel's backlog waits as delayed jobs (no worker slot
 * held), other channels keep flowing, and a 429 from Discord is waited out.
 * Nothing here depends on how fast the machine is: bursts are committed at
 * once, windows are longer than the test where a backlog must remain, and
 * every other wait is for a condition.
 */
import { afterEach, expect, it } from 'vitest';
import { createMachine, updateSettings } from '@flipfix/db';
import { createRedis } from '@flipfix/queue';
import { embedsOf, REDIS_URL, startStack, waitFor, type Stack } from './harness';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

// Each burst is committed in one transaction, so the relay hands it over in
// one job and the channel's window is saturated whatever the machine's speed.
async function burst(s: Stack, machineId: number, count: number, text: string): Promise<void> {
  await s.db.prisma.$transaction(Array.from({ length: count }, (_, i) => s.db.prisma.logEntry.create({ data: { machineId, text: `${text} ${i}` } })));
}
/** Limiter slots reserved but neither settled (sent) nor released (not sent). */
async function slotsInFlight(s: Stack): Promise<number> {
  const redis = createRedis(REDIS_URL);
  try {
    const keys = await redis.keys(`${s.prefix}:rl:flying:*`);
    const counts = await Promise.all(keys.map((key) => redis.zcard(key)));
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    await redis.quit();
  }
}
// A slot left unsettled would stay in flight for the REST timeout (15 s):
// once the work is done, every slot must be back well before that.
const SLOTS_BACK_MS = 5000;
const embedsIn = (s: Stack, channelId: string) => s.sim.messages(channelId).reduce((n, m) => n + m.embeds.length, 0);

it('a rate-limited channel does not block the others: its backlog waits as delayed jobs', async () => {
  // A window far longer than the test: the busy channel's backlog cannot drain
  // while the test runs, however slow the machine. Only 2 worker slots.
  const window = { limit: 2, windowMs: 600_000 };
  stack = await startStack({ sim: { rateLimits: { perChannel: window } }, worker: { concurrency: 2, rateLimits: { defaultChannel: window } } });
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'Attack from Mars', shortName: 'AFM' });
  const other = s.sim.createChannel({ name: 'other' });
  const v = await updateSettings(s.db.prisma, { events: { part_request_created: { enabled: true, channelId: other.id } } }, 'test');
  await waitFor(() => s.worker.settings.current.version === v.version);

  // More than a window can carry (one job of 25 posts; two batches of 10, packed from the first message).
  await burst(s, machine.id, 25, 'busy');
  await waitFor(() => embedsIn(s, s.sim.channelId) >= 20, { what: 'first window used' });
  expect(s.sim.messages(s.sim.channelId)).toHaveLength(2);
  await s.db.prisma.partRequest.create({ data: { text: 'Goes to the quiet channel' } });
  await waitFor(() => s.sim.messages(other.id).length === 1, { what: 'quiet channel post' });

  // The backlog is still there, held as delayed jobs: no worker slot is busy with it.
  await waitFor(
    async () => {
      const counts = await s.worker.queues.bot.getJobCounts('active', 'delayed');
      return counts.active === 0 && (counts.delayed ?? 0) > 0;
    },
    { what: 'backlog delayed, no slot held' },
  );
  const pending = await s.db.prisma.delivery.findMany({ where: { status: 'pending', targetKey: s.sim.channelId }, select: { id: true } });
  expect(pending.length).toBe(25 - embedsIn(s, s.sim.channelId));
  expect(pending.length).toBeGreaterThan(0);
  // The waiting posts wait in the job that brought them: no post crossed the queue a second time.
  const busy = new Set((await s.db.prisma.delivery.findMany({ where: { targetKey: s.sim.channelId }, select: { id: true } })).map((d) => d.id));
  const jobs = await s.worker.queues.bot.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
  const carrying = jobs.filter((j) => (j.data.deliveryIds as string[]).some((id) => busy.has(id)));
  expect(carrying).toHaveLength(1);
  expect(new Set(carrying[0]!.data.deliveryIds as string[])).toEqual(new Set(pending.map((d) => d.id)));
  expect(s.sim.stats().rateLimited).toBe(0);
}, 40_000);

it('a backlog drains packed into fewer messages than events, and nothing trips a 429', async () => {
  stack = await startStack({ sim: { rateLimits: { perChannel: { limit: 5, windowMs: 1000 } } } });
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'Medieval Madness', shortName: 'MM' });
  await burst(s, machine.id, 20, 'flood');
  await waitFor(() => embedsIn(s, s.sim.channelId) === 20, { timeoutMs: 20_000, what: 'backlog drained' });
  expect(s.sim.messages(s.sim.channelId).length).toBeLessThan(20);
  expect(s.sim.stats().rateLimited).toBe(0);
  await waitFor(async () => (await s.db.prisma.delivery.count({ where: { status: 'delivered' } })) === 20, { what: 'ledger' });
  // Sent, waited, and taken by a flood batch leader: every slot was settled or released.
  await waitFor(async () => (await slotsInFlight(s)) === 0, { timeoutMs: SLOTS_BACK_MS, what: 'no slot left in flight' });
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
  // The posts answered 429 settled their slots too.
  await waitFor(async () => (await slotsInFlight(s)) === 0, { timeoutMs: SLOTS_BACK_MS, what: 'no slot left in flight' });
}, 40_000);
