/**
 * Discord's own failure modes and the console's "Post again", each against
 * the simulator, which answers them as Discord does: a forced redelivery is a
 * new message (a new nonce), an edit in an archived thread unarchives it,
 * 30046 and a packed message's edit stay within Discord's rules, and the
 * invalid-request brake holds work queued until it is released.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimProblemReport, createLogEntry, createMachine, createProblemReport, ledger, loadPostSubject, setProblemReportStatus } from '@flipfix/db';
import { createDiscordRest, formatPost, messageEmbedsLength, nonceFor, postMessage, startThread } from '@flipfix/discord';
import { InvalidRequestBrake } from '@flipfix/engine';
import { deliveryJobId, enqueue, JOBS } from '@flipfix/queue';
import { Redis } from 'ioredis';
import { BASE_URL, deliveriesOf, embedsOf, NO_RATE_LIMITS, REDIS_URL, startStack, waitFor, settledDeliveries, type Stack } from './harness';

const BRAKE_AT = 50;
let stack: Stack;
let machineId: number;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack({
    sim: { ...NO_RATE_LIMITS.sim, oldMessageEditsPerHour: 1 },
    worker: { ...NO_RATE_LIMITS.worker, brakeThreshold: BRAKE_AT },
  });
  machineId = (await createMachine(stack.db.prisma, { name: 'Black Knight', shortName: 'BK' })).id;
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis?.quit();
  await stack?.close();
});
beforeEach(() => {
  stack.sim.clearFaults();
});

const settled = (type: string, entityId: number) => settledDeliveries(stack.db, type, entityId);
const rest = () => createDiscordRest({ token: stack.sim.token, apiUrl: stack.sim.apiUrl });
const subjectOf = async (id: number) =>
  (await loadPostSubject(stack.db.prisma, { type: 'problem_report_created', entityType: 'problem_report', entityId: id }, BASE_URL))!;

describe('Post again', () => {
  it('a forced redelivery of a delivered bot post posts a new message', async () => {
    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Post me twice' });
    const [first] = await settled('log_entry_created', entry.id);
    expect(first?.status).toBe('delivered');
    // What POST /api/admin/deliveries/:id/redeliver?force=true does.
    expect(await ledger.redeliver(stack.db.pool, first!.id, 'redelivery requested by test', { force: true })).toEqual([first!.id]);
    await enqueue(stack.worker.queues.bot, JOBS.deliverBot, [{ data: { deliveryIds: [first!.id] }, jobId: deliveryJobId(first!.id) }], {
      retry: { attempts: 3, backoffMs: 100, jitter: 0 },
      ifAbsent: true,
    });
    const [second] = await waitFor(async () => {
      const rows = await deliveriesOf(stack.db, { type: 'log_entry_created', entityId: entry.id });
      return rows[0]?.status === 'delivered' && rows[0].discordMessageId !== first!.discordMessageId ? rows : undefined;
    });
    const posts = stack.sim.messages(stack.sim.channelId).filter((m) => embedsOf(m).some((e) => e.description?.includes('Post me twice')));
    expect(posts.map((m) => m.id)).toEqual([first!.discordMessageId, second!.discordMessageId]);
    expect(second!.sendGeneration).toBe(1);
  });
});

describe('edits', () => {
  it('an edit of a post in an archived thread unarchives the thread and edits', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Magnet weak' });
    const [original] = await settled('problem_report_created', pr.id);
    // The post lives in a thread (as with threads on) that Discord has since archived.
    const thread = await startThread(rest(), stack.sim.channelId, original!.discordMessageId!, { name: 'BK: Magnet weak' });
    const inThread = await postMessage(rest(), thread.id, formatPost(await subjectOf(pr.id), { baseUrl: BASE_URL, mode: 'bot' }), { nonce: nonceFor(`t-${pr.id}`) });
    await stack.db.prisma.delivery.update({ where: { id: original!.id }, data: { discordChannelId: thread.id, discordMessageId: inThread.id } });
    stack.sim.archiveThread(thread.id);

    await setProblemReportStatus(stack.db.prisma, pr.id, 'closed', 'Ada');
    const [edit] = await settled('problem_report_status_changed', pr.id);
    expect(edit).toMatchObject({ status: 'delivered', discordMessageId: inThread.id, attempts: 1 });
    expect(stack.sim.messages(thread.id).find((m) => m.id === inThread.id)?.edited_timestamp).toBeTruthy();
    const threadView = stack.sim.snapshot().channels.find((c) => c.id === thread.id) as { thread_metadata?: { archived?: boolean } } | undefined;
    expect(threadView?.thread_metadata?.archived).toBe(false);
  });

  it('30046 (too many edits to an old message) is recorded with its reason, not retried', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Flipper coil hot' });
    const [original] = await settled('problem_report_created', pr.id);
    stack.sim.ageMessage(stack.sim.channelId, original!.discordMessageId!, 2 * 3600_000);
    await setProblemReportStatus(stack.db.prisma, pr.id, 'closed', 'Ada');
    await settled('problem_report_status_changed', pr.id);
    const refusedBefore = stack.sim.stats().byStatus['400'] ?? 0;
    await setProblemReportStatus(stack.db.prisma, pr.id, 'open', 'Ada');
    const rows = await waitFor(async () => {
      const all = await deliveriesOf(stack.db, { type: 'problem_report_status_changed', entityId: pr.id });
      return all.length === 2 && all.every((r) => r.status !== 'pending' && r.status !== 'sending') ? all : undefined;
    });
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'skipped']);
    expect(rows[1]).toMatchObject({ attempts: 1, lastError: expect.stringContaining('(30046)') });
    // One refused PATCH: no retry loop.
    expect(stack.sim.stats().byStatus['400']).toBe(refusedBefore + 1);
  });

  it('an edit of one record in a packed message keeps every record’s embed within the limits', async () => {
    const a = await createProblemReport(stack.db.prisma, { machineId, description: 'alpha' });
    const b = await createProblemReport(stack.db.prisma, { machineId, description: 'bravo' });
    const [rowA] = await settled('problem_report_created', a.id);
    const [rowB] = await settled('problem_report_created', b.id);
    // Descriptions that bring the two embeds to 5,990 characters: a claim's field pushes them past 6,000.
    const base = messageEmbedsLength([...formatPost(await subjectOf(a.id), { baseUrl: BASE_URL, mode: 'bot' }).embeds!, ...formatPost(await subjectOf(b.id), { baseUrl: BASE_URL, mode: 'bot' }).embeds!]);
    const fill = Math.floor((5990 - base) / 2);
    for (const [id, word] of [[a.id, 'alpha'], [b.id, 'bravo']] as const) {
      await stack.db.prisma.problemReport.update({ where: { id }, data: { description: `${word} ${'x'.repeat(fill - 1)}` } });
    }
    // The two as a flood batch packed them: one message, two embeds.
    const bodyA = formatPost(await subjectOf(a.id), { baseUrl: BASE_URL, mode: 'bot' });
    const bodyB = formatPost(await subjectOf(b.id), { baseUrl: BASE_URL, mode: 'bot' });
    const packed = await postMessage(rest(), stack.sim.channelId, { embeds: [...bodyA.embeds!, ...bodyB.embeds!], allowed_mentions: { parse: [] } }, {
      nonce: nonceFor(`packed-${a.id}`),
    });
    for (const [row, body, embedIndex] of [[rowA!, bodyA, 0], [rowB!, bodyB, 1]] as const) {
      await stack.db.prisma.delivery.update({
        where: { id: row.id },
        data: { discordMessageId: packed.id, batchId: rowA!.id, embedIndex, payload: body as object },
      });
    }
    await claimProblemReport(stack.db.prisma, b.id, 'Maintainer With Name');
    const [edit] = await settled('problem_report_status_changed', b.id);
    expect(edit?.status).toBe('delivered');
    const message = stack.sim.messages(stack.sim.channelId).find((m) => m.id === packed.id)!;
    const embeds = embedsOf(message);
    expect(embeds.map((e) => e.url)).toEqual([`${BASE_URL}/problem-reports/${a.id}`, `${BASE_URL}/problem-reports/${b.id}`]);
    expect(embeds[1]?.fields?.some((f) => f.value === 'Maintainer With Name')).toBe(true);
    expect(messageEmbedsLength(embeds)).toBeLessThanOrEqual(6000);
  });
});

describe('invalid-request brake', () => {
  it('above the threshold nothing is sent and the work stays queued; below it, it goes out', async () => {
    const brake = new InvalidRequestBrake({ redis, prefix: stack.prefix, threshold: BRAKE_AT });
    await brake.record(BRAKE_AT);
    const requestsBefore = stack.sim.stats().requests;
    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Held by the brake' });
    // The job is back in the queue as delayed, its row still pending, and Discord heard nothing.
    await waitFor(async () => {
      const rows = await deliveriesOf(stack.db, { type: 'log_entry_created', entityId: entry.id });
      if (rows[0]?.status !== 'pending') return undefined;
      const delayed = await stack.worker.queues.bot.getJobs(['delayed']);
      return delayed.some((j) => (j.data.deliveryIds as string[]).includes(rows[0]!.id)) ? true : undefined;
    }, { what: 'job delayed by the brake' });
    expect(stack.sim.stats().requests).toBe(requestsBefore);

    await brake.record(-BRAKE_AT);
    const [row] = await settled('log_entry_created', entry.id);
    expect(row?.status).toBe('delivered');
  });
});
