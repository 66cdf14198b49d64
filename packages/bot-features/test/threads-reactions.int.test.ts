/**
 * Threads, reactions and the unplayable role mention, end to end against
 * the simulator: domain write → worker with the bot features → Discord.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogEntry, createMachine, createPartRequest, createPartRequestUpdate, createProblemReport } from '@flipfix/db';
import { settled, startFeatureStack, waitFor, type FeatureStack } from './stack';

let stack: FeatureStack;
let machineId: number;
const CUSTOM_EMOJI = 'flipfix:1100000000000000100';
const ROLE_ID = '1100000000000000555';

beforeAll(async () => {
  stack = await startFeatureStack();
  machineId = (await createMachine(stack.db.prisma, { name: 'Eight Ball Deluxe', shortName: 'EBD' })).id;
});
afterAll(async () => {
  await stack?.close();
});

const channel = () => stack.sim.channelId;
const find = (channelId: string, id: string | null) => stack.sim.messages(channelId).find((m) => m.id === id);

describe('threads', () => {
  beforeAll(async () => {
    await stack.settings({ threadsEnabled: true });
  });
  afterAll(async () => {
    await stack.settings({ threadsEnabled: false });
  });

  it('starts a thread on a problem report post and posts its log entries into it', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Ball stuck behind the left slingshot', problemType: 'stuck_ball' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const threadId = await waitFor(async () => (await stack.db.prisma.delivery.findUnique({ where: { id: post!.id } }))?.threadId, { what: 'thread id in the ledger' });
    const thread = find(channel(), post!.discordMessageId)?.thread as
      | { id: string; name: string; thread_metadata?: { auto_archive_duration?: number } }
      | undefined;
    expect(thread?.id).toBe(threadId);
    expect(thread?.name).toBe('⚠️ EBD: Stuck Ball: Ball stuck behind the left slingshot');
    expect(thread?.thread_metadata?.auto_archive_duration).toBe(10080);

    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Cleared the ball', problemReportId: pr.id, maintainerNames: ['Ada'] });
    const [d] = await settled(stack.db, 'log_entry_created', entry.id);
    expect(d?.status).toBe('delivered');
    expect(d?.discordChannelId).toBe(threadId);
    expect(stack.sim.messages(threadId).map((m) => m.id)).toContain(d!.discordMessageId);
    expect(find(channel(), d!.discordMessageId)).toBeUndefined();

    // A log entry about no report stays in the channel.
    const loose = await createLogEntry(stack.db.prisma, { machineId, text: 'Waxed the playfield' });
    const [l] = await settled(stack.db, 'log_entry_created', loose.id);
    expect(l?.discordChannelId).toBe(channel());
  });

  it('posts part request updates into the request thread', async () => {
    const req = await createPartRequest(stack.db.prisma, { text: '2x #44 bulbs', machineId, requestedByName: 'Bob' });
    const [post] = await settled(stack.db, 'part_request_created', req.id);
    const threadId = await waitFor(async () => (await stack.db.prisma.delivery.findUnique({ where: { id: post!.id } }))?.threadId, { what: 'thread id' });
    expect(threadId).toBe(post!.discordMessageId);
    const update = await createPartRequestUpdate(stack.db.prisma, req.id, { text: 'Found some in the drawer', postedByName: 'Bob' });
    const rows = await settled(stack.db, 'part_request_update_created', update.id);
    expect(rows.find((r) => r.action === 'post')?.discordChannelId).toBe(threadId);
  });

  it('unarchives an archived thread and posts into it', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Left flipper weak' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const threadId = await waitFor(async () => (await stack.db.prisma.delivery.findUnique({ where: { id: post!.id } }))?.threadId, { what: 'thread id' });
    const archive = await fetch(`${stack.sim.apiUrl}/v10/channels/${threadId}`, {
      method: 'PATCH',
      headers: { authorization: `Bot ${stack.sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ archived: true }),
    });
    expect(archive.status).toBe(200);
    expect(stack.sim.state.channels.get(threadId)?.thread_metadata?.archived).toBe(true);

    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Rebuilt the flipper', problemReportId: pr.id });
    const [d] = await settled(stack.db, 'log_entry_created', entry.id);
    expect(d?.status).toBe('delivered');
    expect(d?.discordChannelId).toBe(threadId);
    expect(stack.sim.state.channels.get(threadId)?.thread_metadata?.archived).toBe(false);
  });

  it('falls back to the channel when the thread was deleted (10003)', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Drop target stuck' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const threadId = await waitFor(async () => (await stack.db.prisma.delivery.findUnique({ where: { id: post!.id } }))?.threadId, { what: 'thread id' });
    stack.sim.state.channels.delete(threadId);
    const gone = await fetch(`${stack.sim.apiUrl}/v10/channels/${threadId}`, { headers: { authorization: `Bot ${stack.sim.token}` } });
    expect(((await gone.json()) as { code: number }).code).toBe(10003);

    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Freed the drop target', problemReportId: pr.id });
    const [d] = await settled(stack.db, 'log_entry_created', entry.id);
    expect(d?.status).toBe('delivered');
    expect(d?.discordChannelId).toBe(channel());
    expect(find(channel(), d!.discordMessageId)).toBeDefined();
  });
});

describe('reactions', () => {
  it('reacts with a Unicode emoji and a custom name:id emoji after posting', async () => {
    await stack.settings({ reactions: { part_request_created: ['👀', CUSTOM_EMOJI] } });
    const req = await createPartRequest(stack.db.prisma, { text: 'Rubber ring kit', machineId });
    const [d] = await settled(stack.db, 'part_request_created', req.id);
    const reactions = await waitFor(() => {
      const r = find(channel(), d!.discordMessageId)?.reactions as { emoji: { name: string; id: string | null }; me: boolean }[] | undefined;
      return r && r.length === 2 ? r : undefined;
    }, { what: 'two reactions' });
    expect(reactions.map((r) => [r.emoji.name, r.emoji.id, r.me])).toEqual([
      ['👀', null, true],
      ['flipfix', '1100000000000000100', true],
    ]);
    // Other event types keep their own (empty) list.
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Coin door jammed' });
    const [p] = await settled(stack.db, 'problem_report_created', pr.id);
    expect(find(channel(), p!.discordMessageId)?.reactions ?? []).toEqual([]);
    await stack.settings({ reactions: { part_request_created: [] } });
  });
});

describe('role mention on unplayable reports', () => {
  it('pings only the configured role, and only for unplayable reports', async () => {
    await stack.settings({ unplayableRoleId: ROLE_ID });
    const urgent = await createProblemReport(stack.db.prisma, {
      machineId,
      priority: 'unplayable',
      description: 'Dead: no power at all @everyone <@1100000000000000777>',
    });
    const [u] = await settled(stack.db, 'problem_report_created', urgent.id);
    const msg = find(channel(), u!.discordMessageId)!;
    expect(msg.content).toBe(`<@&${ROLE_ID}>`);
    expect(msg.mention_roles).toEqual([ROLE_ID]);
    expect(msg.mention_everyone).toBe(false);
    expect(msg.mentions).toEqual([]);
    expect(msg.allowed_mentions).toEqual({ parse: [], roles: [ROLE_ID] });

    const minor = await createProblemReport(stack.db.prisma, { machineId, priority: 'minor', description: 'Scuffed apron' });
    const [m] = await settled(stack.db, 'problem_report_created', minor.id);
    const quiet = find(channel(), m!.discordMessageId)!;
    expect(quiet.mention_roles).toEqual([]);
    expect(quiet.mention_everyone).toBe(false);
    expect(quiet.mentions).toEqual([]);
    await stack.settings({ unplayableRoleId: null });
  });
});
