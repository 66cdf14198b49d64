/**
 * Flood batching: a burst into one rate-limited channel drains in packed
 * messages (≤ 10 embeds each), in order, without 429s, and the ledger maps
 * each event to its message and embed so later edits still work.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMachine, setProblemReportStatus } from '@flipfix/db';
import { embedsOf, startStack, waitFor, type Stack } from './harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sim: { rateLimits: { perChannel: { limit: 5, windowMs: 2000 } } } });
});
afterAll(async () => {
  await stack?.close();
});

it('packs a burst into few messages, in order, each event mapped to its embed', async () => {
  const s = stack;
  const machine = await createMachine(s.db.prisma, { name: 'Twilight Zone', shortName: 'TZ' });
  const N = 60;
  await s.db.pool.query(
    `INSERT INTO problem_reports (machine_id, description, reporter_name, updated_at)
     SELECT $1, 'burst report ' || g, 'Burst', now() FROM generate_series(1, $2) g`,
    [machine.id, N],
  );
  await waitFor(async () => (await s.db.prisma.delivery.count({ where: { status: 'delivered' } })) === N, {
    timeoutMs: 30_000,
    what: 'burst delivered',
  });
  const messages = s.sim.messages(s.sim.channelId);
  const embeds = messages.flatMap((m) => embedsOf(m));
  // Every event exactly once.
  const numbers = embeds.map((e) => Number(/burst report (\d+)/.exec(e.description ?? '')?.[1]));
  expect(numbers.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  // Far fewer messages than events, none over Discord's limits, and no 429.
  expect(messages.length).toBeLessThanOrEqual(Math.ceil(N / 10) + 6);
  for (const m of messages) expect(embedsOf(m).length).toBeLessThanOrEqual(10);
  expect(s.sim.stats().rateLimited).toBe(0);
  // Within each message, events keep their order.
  for (const m of messages) {
    const ns = embedsOf(m).map((e) => Number(/burst report (\d+)/.exec(e.description ?? '')?.[1]));
    expect(ns).toEqual(ns.slice().sort((a, b) => a - b));
  }
  // The ledger says where each event went.
  const rows = await s.db.prisma.delivery.findMany({ include: { event: true } });
  for (const r of rows) {
    const msg = messages.find((m) => m.id === r.discordMessageId)!;
    expect(embedsOf(msg)[r.embedIndex!]?.url).toBe(`http://flipfix.test/problem-reports/${r.event.entityId}`);
  }
  // Each message carries one link button per record it holds, to that record, in rows of at most 5.
  for (const m of messages) {
    const rows = (m.components ?? []) as { components: { url?: string }[] }[];
    expect(rows.every((row) => row.components.length <= 5)).toBe(true);
    const urls = rows.flatMap((row) => row.components.map((c) => c.url).filter((u) => u !== undefined));
    expect(urls).toEqual(embedsOf(m).map((e) => e.url));
  }

  // Closing a batched report edits its embed inside the packed message, keeping the others.
  const batched = rows.find((r) => r.batchId && r.embedIndex! > 0)!;
  const before = embedsOf(messages.find((m) => m.id === batched.discordMessageId)).length;
  await setProblemReportStatus(s.db.prisma, batched.event.entityId, 'closed', 'Ada');
  await waitFor(async () => {
    const edit = await s.db.prisma.delivery.findFirst({ where: { action: 'edit', event: { entityId: batched.event.entityId } } });
    return edit?.status === 'delivered';
  });
  const after = s.sim.messages(s.sim.channelId).find((m) => m.id === batched.discordMessageId)!;
  expect(after.edited_timestamp).toBeTruthy();
  expect(embedsOf(after)).toHaveLength(before);
  expect(JSON.stringify(embedsOf(after)[batched.embedIndex!])).toMatch(/[Cc]losed/);
  // The edit keeps one link button per record (an edit replaces the components too).
  const afterUrls = ((after.components ?? []) as { components: { url?: string }[] }[]).flatMap((row) => row.components.map((c) => c.url));
  expect(afterUrls).toEqual(embedsOf(after).map((e) => e.url));
}, 60_000);
