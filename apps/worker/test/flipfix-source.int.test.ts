/**
 * The worker attached to a Flipfix database (SOURCE=flipfix): records saved
 * the way Flipfix's Django forms save them reach the simulator's channel as
 * Flipfix posted them, with Flipfix's delivery rules, on the same pipeline
 * (relay, router, ledger, fast lane, edits, digests) as the built-in source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBotFeatures } from '@flipfix/bot-features';
import { updateSettings } from '@flipfix/db';
import { createWebhookEndpoint, withLegacyWebhooks } from '@flipfix/legacy-webhooks';
import { createFlipfixSource } from '@flipfix/source-flipfix';
import { createFlipfixTestDatabase, type DjangoUser, DjangoWriter } from '@flipfix/source-flipfix/testing';
import { BASE_URL, deliveriesOf, embedsOf, NO_RATE_LIMITS, startStack, type Stack, waitFor } from './harness';

let stack: Stack;
let django: DjangoWriter;
let machineId: number;
let dana: DjangoUser;
let lee: DjangoUser;

beforeAll(async () => {
  stack = await startStack({
    ...NO_RATE_LIMITS,
    database: () => createFlipfixTestDatabase(),
    worker: {
      ...NO_RATE_LIMITS.worker,
      source: createFlipfixSource(),
      extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx, { digestWindow: { quietMs: 1000, maxMs: 3000 }, digestSweepMs: 250 })),
    },
  });
  django = new DjangoWriter(stack.databaseUrl);
  machineId = await django.machine({ name: 'Eight Ball Deluxe', slug: 'eight-ball-deluxe', shortName: 'EBD' });
  dana = await django.user({ username: 'dana', firstName: 'Dana', lastName: 'Scully' });
  lee = await django.user({ username: 'lee', firstName: 'Lee', lastName: 'Adama' });
  await django.linkDiscord(dana.maintainerId, { discordUserId: '300000000000000001', username: 'dana.s', displayName: 'Dana on Discord' });
});
afterAll(async () => {
  await django?.close();
  await stack?.close();
});

const messages = () => stack.sim.messages(stack.sim.channelId);
async function settled(type: string, entityId: number) {
  return waitFor(
    async () => {
      const rows = await deliveriesOf(stack.db, { type, entityId });
      return rows.length > 0 && rows.every((r) => r.status !== 'pending' && r.status !== 'sending' && r.status !== 'held') ? rows : undefined;
    },
    { what: `${type} #${entityId} settled` },
  );
}
const messageOf = (id: string | null) => messages().find((m) => m.id === id);

describe('every Flipfix event type posts, linking to Flipfix', () => {
  it("a visitor's problem report, with its thumbnails as absolute media URLs", async () => {
    const id = await django.problemReport({
      machineId,
      description: 'Ball stuck behind the left slingshot',
      problemType: 'stuck_ball',
      reporterName: 'Visitor Val',
      media: [{ file: `problem_reports/${machineId}/1.jpg`, thumbnail: `problem_reports/${machineId}/1-thumb.jpg` }],
    });
    const [d] = await settled('problem_report_created', id);
    expect(d?.status).toBe('delivered');
    const [embed] = embedsOf(messageOf(d!.discordMessageId));
    expect(embed?.title).toBe('⚠️ EBD');
    expect(embed?.url).toBe(`${BASE_URL}/problem-reports/${id}/`);
    expect(embed?.description).toContain('Stuck Ball: Ball stuck behind the left slingshot');
    expect(embed?.description).toContain('— Visitor Val');
    expect(embed?.image?.url).toBe(`${BASE_URL}/media/problem_reports/${machineId}/1-thumb.jpg`);
    // Only the link to Flipfix's page: Claim/Close act through our interactions
    // endpoint, which does not serve Flipfix's records.
    const rows = (messageOf(d!.discordMessageId)?.components ?? []) as { components?: { label?: string }[] }[];
    expect(rows.flatMap((row) => row.components ?? []).map((button) => button.label)).toEqual(['View in Flipfix']);
  });

  it("a log entry names its maintainers by their Discord names and links its problem report's Flipfix page", async () => {
    const reportId = await django.problemReport({ machineId, description: 'Flipper weak' });
    const id = await django.logEntry({
      machineId,
      text: 'Rebuilt the left flipper',
      maintainerIds: [dana.maintainerId, lee.maintainerId],
      createdByUserId: null,
      problemReportId: reportId,
    });
    const [d] = await settled('log_entry_created', id);
    const [embed] = embedsOf(messageOf(d!.discordMessageId));
    expect(embed?.title).toBe('🗒️ EBD');
    expect(embed?.url).toBe(`${BASE_URL}/logs/${id}/`);
    expect(embed?.description).toContain(`${BASE_URL}/problem-reports/${reportId}/`);
    expect(embed?.description).toContain('— Dana on Discord, Lee Adama');
  });

  it("Flipfix's link markup renders as links to Flipfix's pages, a link to nothing as a broken link", async () => {
    const reportId = await django.problemReport({ machineId, description: 'Drop targets slow' });
    const id = await django.logEntry({
      machineId,
      text: `Reset the bank on [[machine:id:${machineId}]], see [[problem:${reportId}]] and [[log:999999]]`,
      maintainerNames: 'Pat',
    });
    const [d] = await settled('log_entry_created', id);
    const [embed] = embedsOf(messageOf(d!.discordMessageId));
    expect(embed?.description).toContain(`Reset the bank on [Eight Ball Deluxe](${BASE_URL}/machines/eight-ball-deluxe/)`);
    expect(embed?.description).toContain(`see [Problem #${reportId}: Drop targets slow](${BASE_URL}/problem-reports/${reportId}/)`);
    expect(embed?.description).toContain('and *[broken link]*');
    expect(embed?.description).not.toContain('[[');
  });

  it('a part request and its update (the update links to the request, Flipfix #208: one post per action)', async () => {
    const requestId = await django.partRequest({ text: 'Flipper rebuild kit', machineId, requestedByName: 'Shop Sam' });
    const [posted] = await settled('part_request_created', requestId);
    const requestEmbed = embedsOf(messageOf(posted!.discordMessageId))[0];
    expect(requestEmbed?.url).toBe(`${BASE_URL}/parts/${requestId}/`);
    expect(requestEmbed?.description).toContain('— Shop Sam');

    const updateId = await django.partRequestUpdate({ partRequestId: requestId, text: 'Ordered from Marco', newStatus: 'ordered', postedByName: 'Shop Sam' });
    const rows = await settled('part_request_update_created', updateId);
    const post = rows.find((r) => r.action === 'post')!;
    const [embed] = embedsOf(messageOf(post.discordMessageId));
    expect(embed?.url).toBe(`${BASE_URL}/parts/${requestId}/`);
    expect(embed?.description).toContain('Ordered from Marco');
    expect(embed?.description).toContain(`Parts Request #${requestId}`);
    // The request's status change itself was never an event.
    const requestEvents = await stack.db.prisma.outboxEvent.findMany({ where: { entityType: 'part_request', entityId: requestId } });
    expect(requestEvents.map((e) => e.type)).toEqual(['part_request_created']);
  });
});

describe("Flipfix's delivery rules", () => {
  it('closing a problem report edits its post (and posts the log entry Flipfix writes with it)', async () => {
    const id = await django.problemReport({ machineId, description: 'Coin door jammed' });
    const [original] = await settled('problem_report_created', id);
    const count = messages().length;
    const logId = await django.setProblemReportStatus(id, 'closed', lee);
    const [edit] = await settled('problem_report_status_changed', id);
    expect(edit?.status).toBe('delivered');
    expect(edit?.discordMessageId).toBe(original!.discordMessageId);
    expect(messageOf(original!.discordMessageId)?.edited_timestamp).toBeTruthy();
    const [log] = await settled('log_entry_created', logId);
    expect(log?.status).toBe('delivered');
    expect(messages().length).toBe(count + 1);
  });

  it('a record made from a Discord message is not posted back (Flipfix #209)', async () => {
    const fromDiscord = await django.logEntryFromDiscord({ machineId, text: 'Fixed it (from Discord)', createdByUserId: dana.userId }, '400000000000000009');
    // A later, ordinary save settles first; by then the Discord-made one would have been routed too.
    const later = await django.logEntry({ machineId, text: 'Ordinary entry', maintainerNames: 'Pat' });
    await settled('log_entry_created', later);
    expect(await stack.db.prisma.outboxEvent.count({ where: { entityType: 'log_entry', entityId: fromDiscord } })).toBe(0);
    expect(messages().some((m) => embedsOf(m)[0]?.description?.includes('Fixed it (from Discord)'))).toBe(false);
  });

  it("digests by acting user, as Flipfix: one session by Dana becomes one digest under her Discord name; a visitor's report posts at once", async () => {
    await updateSettings(stack.db.prisma, { digest: { enabled: true } }, 'test');
    try {
      const first = await django.logEntry({ machineId, text: 'Cleaned the playfield', maintainerIds: [dana.maintainerId], createdByUserId: dana.userId });
      const second = await django.logEntry({ machineId, text: 'Replaced the rubbers', maintainerIds: [dana.maintainerId], createdByUserId: dana.userId });
      const visitor = await django.problemReport({ machineId, description: 'Tilt too sensitive' });
      const [anon] = await settled('problem_report_created', visitor);
      expect(anon?.digestKey).toBeNull();
      await settled('log_entry_created', first);
      await settled('log_entry_created', second);
      const digest = await waitFor(() => messages().find((m) => embedsOf(m)[0]?.title?.startsWith('🧰 Work session by Dana on Discord')), {
        what: "Dana's digest",
      });
      const text = JSON.stringify(embedsOf(digest));
      expect(text).toContain(`${BASE_URL}/logs/${first}/`);
      expect(text).toContain(`${BASE_URL}/logs/${second}/`);
    } finally {
      await updateSettings(stack.db.prisma, { digest: { enabled: false } }, 'test');
    }
  });
});

describe('the rollout flag on a Flipfix database', () => {
  it('in `both` mode the legacy webhook and the bot each post the record once, with the same Flipfix link', async () => {
    const channel = stack.sim.createChannel({ name: 'legacy' });
    const hook = stack.sim.createWebhook(channel.id);
    await createWebhookEndpoint(stack.db, { name: 'Legacy', url: hook.url, events: ['log_entry_created'] });
    await updateSettings(stack.db.prisma, { deliveryMode: 'both' }, 'test');
    try {
      const id = await django.logEntry({ machineId, text: 'Waxed the playfield', maintainerNames: 'Pat' });
      const rows = await settled('log_entry_created', id);
      expect(rows.map((r) => [r.target, r.status]).sort()).toEqual([
        ['bot', 'delivered'],
        ['webhook', 'delivered'],
      ]);
      const legacy = stack.sim.messages(channel.id).filter((m) => embedsOf(m)[0]?.url === `${BASE_URL}/logs/${id}/`);
      const bot = messages().filter((m) => embedsOf(m)[0]?.url === `${BASE_URL}/logs/${id}/`);
      expect([legacy.length, bot.length]).toEqual([1, 1]);
    } finally {
      await updateSettings(stack.db.prisma, { deliveryMode: 'bot' }, 'test');
    }
  });
});
