/**
 * The bot delivery path on real Postgres, Redis, BullMQ and the simulator:
 * one job per relay batch of up to 25 posts, no second message when a job
 * runs again after it was cut off, and deleted records skipped without
 * holding up the rest.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogEntry, createMachine, loadPostSubject } from '@flipfix/db';
import { createDiscordRest, formatPost, nonceFor, postMessage } from '@flipfix/discord';
import { JOBS } from '@flipfix/queue';
import { BASE_URL, deliveriesOf, embedsOf, NO_RATE_LIMITS, startStack, waitFor, type Stack } from './harness';

let stack: Stack;
let machineId: number;

beforeAll(async () => {
  stack = await startStack(NO_RATE_LIMITS);
  machineId = (await createMachine(stack.db.prisma, { name: 'Twilight Zone', shortName: 'TZ' })).id;
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await stack.worker.queues.bot.resume();
});

const withText = (text: string) => stack.sim.messages(stack.sim.channelId).filter((m) => embedsOf(m).some((e) => e.description?.includes(text)));

async function settled(entityIds: number[]) {
  return waitFor(
    async () => {
      const rows = (await Promise.all(entityIds.map((id) => deliveriesOf(stack.db, { type: 'log_entry_created', entityId: id })))).flat();
      return rows.length === entityIds.length && rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : undefined;
    },
    { what: 'deliveries settled' },
  );
}

describe('bot delivery path', () => {
  it('carries a batch committed together in jobs of up to 25 posts, each posted once', async () => {
    const { rows } = await stack.db.pool.query<{ id: number }>(
      `INSERT INTO log_entries (machine_id, text, maintainer_names, created_at)
       SELECT $1, 'lane batch ' || i, '{}', now() FROM generate_series(1, 60) AS i RETURNING id`,
      [machineId],
    );
    const ids = rows.map((r) => r.id);
    const ledger = await settled(ids);
    expect(ledger.every((d) => d.status === 'delivered')).toBe(true);
    expect(new Set(ledger.map((d) => d.discordMessageId)).size).toBe(60);

    const mine = new Set(ledger.map((d) => d.id));
    const jobs = await stack.worker.queues.bot.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active']);
    const carrying = jobs.filter((j) => j.name === JOBS.deliverBot.name && (j.data.deliveryIds as string[]).some((id) => mine.has(id)));
    // Three jobs carried them all: no post needed a second job.
    expect(carrying.map((j) => (j.data.deliveryIds as string[]).length).sort((a, b) => a - b)).toEqual([10, 25, 25]);
    expect(carrying.reduce((n, j) => n + (j.returnvalue as { delivered: number }).delivered, 0)).toBe(60);

    const urls = stack.sim.messages(stack.sim.channelId).flatMap((m) => embedsOf(m).map((e) => e.url));
    for (const id of ids) expect(urls.filter((u) => u === `${BASE_URL}/log-entries/${id}`)).toHaveLength(1);
  });

  it('a job run again after it was cut off mid-send does not post twice', async () => {
    await stack.worker.queues.bot.pause();
    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Cut off after sending' });
    const [pending] = await waitFor(async () => {
      const rows = await deliveriesOf(stack.db, { type: 'log_entry_created', entityId: entry.id });
      return rows.length === 1 ? rows : undefined;
    });
    // What an earlier run had done when its process died: claimed the row and sent the post.
    await stack.db.pool.query(`UPDATE deliveries SET batch_id = id, status = 'sending', attempts = 1 WHERE id = $1`, [pending!.id]);
    const subject = await loadPostSubject(stack.db.prisma, { type: 'log_entry_created', entityType: 'log_entry', entityId: entry.id }, BASE_URL);
    const rest = createDiscordRest({ token: stack.sim.token, apiUrl: stack.sim.apiUrl });
    const earlier = await postMessage(rest, stack.sim.channelId, formatPost(subject!, { baseUrl: BASE_URL, mode: 'bot' }), {
      nonce: nonceFor(pending!.id),
    });

    await stack.worker.queues.bot.resume();
    const [d] = await settled([entry.id]);
    expect(d?.status).toBe('delivered');
    expect(d?.discordMessageId).toBe(earlier.id);
    expect(withText('Cut off after sending')).toHaveLength(1);
  });

  it('a record deleted before its job runs is skipped; the others in the job are posted', async () => {
    await stack.worker.queues.bot.pause();
    const { rows } = await stack.db.pool.query<{ id: number }>(
      `INSERT INTO log_entries (machine_id, text, maintainer_names, created_at)
       SELECT $1, 'kept or deleted ' || i, '{}', now() FROM generate_series(1, 3) AS i RETURNING id`,
      [machineId],
    );
    const ids = rows.map((r) => r.id);
    await waitFor(async () => ((await stack.db.pool.query(`SELECT count(*)::int AS n FROM deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE e.entity_type = 'log_entry' AND e.entity_id = ANY($1::int[])`, [ids])).rows[0].n === 3 ? true : undefined));
    await stack.db.prisma.logEntry.delete({ where: { id: ids[1]! } });

    await stack.worker.queues.bot.resume();
    const ledger = await settled(ids);
    const byEntity = new Map(ledger.map((d) => [d.event.entityId, d]));
    expect(byEntity.get(ids[0]!)?.status).toBe('delivered');
    expect(byEntity.get(ids[1]!)?.status).toBe('skipped');
    expect(byEntity.get(ids[1]!)?.lastError).toBe('the record no longer exists');
    expect(byEntity.get(ids[2]!)?.status).toBe('delivered');
    expect(withText('kept or deleted 2')).toHaveLength(0);
  });
});
