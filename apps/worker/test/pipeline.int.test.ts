/**
 * The pipeline end to end, on real Postgres, Redis, BullMQ and the simulator:
 * domain write → outbox trigger → relay → router → bot delivery → message.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLogEntry,
  createMachine,
  createPartRequest,
  createPartRequestUpdate,
  createProblemReport,
  setProblemReportStatus,
  updateSettings,
} from '@flipfix/db';
import { BASE_URL, embedsOf, NO_RATE_LIMITS, startStack, waitFor, settledDeliveries, type Stack } from './harness';

let stack: Stack;
let machineId: number;

beforeAll(async () => {
  stack = await startStack(NO_RATE_LIMITS);
  machineId = (await createMachine(stack.db.prisma, { name: 'Eight Ball Deluxe', shortName: 'EBD', location: 'Floor 1' })).id;
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => {
  stack.sim.clearFaults();
});

const messagesIn = (channelId = stack.sim.channelId) => stack.sim.messages(channelId);
const deliveredFor = (type: string, entityId: number) => settledDeliveries(stack.db, type, entityId);
function messageById(id: string | null, channelId = stack.sim.channelId) {
  return messagesIn(channelId).find((m) => m.id === id);
}

describe('each event type posts one correct embed', () => {
  it('problem report', async () => {
    const pr = await createProblemReport(stack.db.prisma, {
      machineId,
      description: 'Ball stuck behind the left slingshot',
      problemType: 'stuck_ball',
      reporterName: 'Visitor Val',
      photoUrls: ['https://img.example/1.jpg', 'https://img.example/2.jpg'],
    });
    const [d] = await deliveredFor('problem_report_created', pr.id);
    expect(d?.status).toBe('delivered');
    const msg = messageById(d!.discordMessageId);
    expect(msg).toBeDefined();
    const embed = embedsOf(msg)[0]!;
    expect(embed.title).toBe('⚠️ EBD');
    expect(embed.url).toBe(`${BASE_URL}/problem-reports/${pr.id}`);
    expect(embed.color).toBe(15158332);
    expect(embed.description).toContain('Stuck Ball: Ball stuck behind the left slingshot');
    expect(embed.description).toContain('— Visitor Val');
    expect(embed.image?.url).toBe('https://img.example/1.jpg');
    expect(embedsOf(msg)[1]?.image?.url).toBe('https://img.example/2.jpg');
    expect(embedsOf(msg)[1]?.url).toBe(embed.url);
    expect(msg!.mention_everyone).toBe(false);
    expect(msg!.nonce).toBeTruthy();
  });

  it('log entry, with the linked problem report line', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Flipper weak' });
    const le = await createLogEntry(stack.db.prisma, {
      machineId,
      text: 'Replaced the flipper coil',
      problemReportId: pr.id,
      maintainerNames: ['Ada', 'Linus'],
    });
    const [d] = await deliveredFor('log_entry_created', le.id);
    const embed = embedsOf(messageById(d!.discordMessageId))[0]!;
    expect(embed.title).toBe('🗒️ EBD');
    expect(embed.color).toBe(3447003);
    expect(embed.description).toContain('Replaced the flipper coil');
    expect(embed.description).toContain(`📎 [`);
    expect(embed.description).toContain(`${BASE_URL}/problem-reports/${pr.id}`);
    expect(embed.description).toContain('— Ada, Linus');
  });

  it('part request and its update', async () => {
    const req = await createPartRequest(stack.db.prisma, { text: 'Need 2 flipper rubbers', machineId, requestedByName: 'Grace' });
    const [d] = await deliveredFor('part_request_created', req.id);
    const embed = embedsOf(messageById(d!.discordMessageId))[0]!;
    expect(embed.title).toBe('📦 Parts Request for EBD');
    expect(embed.description).toContain('Need 2 flipper rubbers');
    expect(embed.description).toContain('— Grace');

    const upd = await createPartRequestUpdate(stack.db.prisma, req.id, { text: 'Ordered from the supplier', newStatus: 'ordered', postedByName: 'Grace' });
    const rows = await deliveredFor('part_request_update_created', upd.id);
    const post = rows.find((r) => r.action === 'post')!;
    const updEmbed = embedsOf(messageById(post.discordMessageId))[0]!;
    expect(updEmbed.title).toBe('💬 Update on Parts Request for EBD');
    expect(updEmbed.description).toContain('Ordered from the supplier');
    // The status change also edited the request's original post, in place.
    const edit = rows.find((r) => r.action === 'edit')!;
    expect(edit.status).toBe('delivered');
    expect(edit.discordMessageId).toBe(d!.discordMessageId);
    expect(messageById(d!.discordMessageId)!.edited_timestamp).toBeTruthy();
  });

  it('a row inserted with plain SQL is posted too', async () => {
    const { rows } = await stack.db.pool.query<{ id: number }>(
      `INSERT INTO problem_reports (machine_id, description, problem_type, priority, reporter_contact, updated_at)
       VALUES ($1, 'Inserted by psql', 'no_credits', 'minor', 'someone@example.org', now()) RETURNING id`,
      [machineId],
    );
    const [d] = await deliveredFor('problem_report_created', rows[0]!.id);
    const embed = embedsOf(messageById(d!.discordMessageId))[0]!;
    expect(embed.description).toContain('No Credits: Inserted by psql');
    // The reporter's contact is private: the attribution falls back to Anonymous.
    expect(embed.description).toContain('— Anonymous');
    expect(embed.description).not.toContain('someone@example.org');
  });

  it('closing a report edits its post instead of posting again', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Left drop target stuck' });
    const [original] = await deliveredFor('problem_report_created', pr.id);
    const before = messagesIn().length;
    await setProblemReportStatus(stack.db.prisma, pr.id, 'closed', 'Ada');
    const [edit] = await deliveredFor('problem_report_status_changed', pr.id);
    expect(edit?.status).toBe('delivered');
    expect(edit?.discordMessageId).toBe(original!.discordMessageId);
    // The "Closed problem report" log entry is posted; the status change itself adds no message.
    await deliveredFor('log_entry_created', (await stack.db.prisma.logEntry.findFirstOrThrow({ where: { problemReportId: pr.id } })).id);
    expect(messagesIn().length).toBe(before + 1);
    expect(messageById(original!.discordMessageId)!.edited_timestamp).toBeTruthy();
  });
});

describe('settings', () => {
  it('toggling a type off stops its posts within 1 s; other types still post', async () => {
    const started = Date.now();
    const s = await updateSettings(stack.db.prisma, { events: { part_request_created: { enabled: false } } }, 'test');
    await waitFor(() => stack.worker.settings.current.version === s.version, { what: 'settings reload' });
    expect(Date.now() - started).toBeLessThan(1000);

    const off = await createPartRequest(stack.db.prisma, { text: 'Should not post' });
    const on = await createLogEntry(stack.db.prisma, { machineId, text: 'Should post' });
    const [skipped] = await deliveredFor('part_request_created', off.id);
    expect(skipped?.status).toBe('skipped');
    expect(skipped?.lastError).toMatch(/disabled/);
    const [posted] = await deliveredFor('log_entry_created', on.id);
    expect(posted?.status).toBe('delivered');
    expect(messagesIn().some((m) => embedsOf(m)[0]?.description?.includes('Should not post'))).toBe(false);
    await updateSettings(stack.db.prisma, { events: { part_request_created: { enabled: true } } }, 'test');
  });

  it('changing the channel moves the posts', async () => {
    const other = stack.sim.createChannel({ name: 'workshop' });
    const s = await updateSettings(stack.db.prisma, { channelId: other.id }, 'test');
    await waitFor(() => stack.worker.settings.current.version === s.version);
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'Moved channel' });
    const [d] = await deliveredFor('log_entry_created', le.id);
    expect(d?.targetKey).toBe(other.id);
    expect(embedsOf(messageById(d!.discordMessageId, other.id))[0]?.description).toContain('Moved channel');
    await updateSettings(stack.db.prisma, { channelId: null }, 'test');
    await waitFor(() => stack.worker.settings.current.channelId === null);
  });
});

describe('failures', () => {
  it('500s then recovery: delivered once, after backoff', async () => {
    stack.sim.injectFaults({ fail: { count: 2, status: 500, method: 'POST', channelId: stack.sim.channelId } });
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'Survives two 500s' });
    const [d] = await deliveredFor('log_entry_created', le.id);
    expect(d?.status).toBe('delivered');
    expect(d?.attempts).toBe(3);
    expect(messagesIn().filter((m) => embedsOf(m)[0]?.description?.includes('Survives two 500s'))).toHaveLength(1);
  });

  it('a dropped connection is transient too', async () => {
    stack.sim.injectFaults({ drop: { count: 1, method: 'POST', channelId: stack.sim.channelId } });
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'Survives a reset' });
    const [d] = await deliveredFor('log_entry_created', le.id);
    expect(d?.status).toBe('delivered');
    expect(messagesIn().filter((m) => embedsOf(m)[0]?.description?.includes('Survives a reset'))).toHaveLength(1);
  });

  it('an invalid token fails at once, without retries, and the ledger says why', async () => {
    stack.sim.injectFaults({ revokeToken: true });
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'Bad token' });
    const [d] = await deliveredFor('log_entry_created', le.id);
    expect(d?.status).toBe('failed');
    expect(d?.attempts).toBe(1);
    expect(d?.errorClass).toBe('permanent:token');
    expect(d?.lastError).toMatch(/token/i);
    expect(d?.lastError).not.toContain(stack.sim.token);
  });

  it('missing Send Messages permission and an unknown channel fail without retries', async () => {
    const locked = stack.sim.createChannel({ name: 'locked', permissions: { view: true, send: false } });
    let s = await updateSettings(stack.db.prisma, { events: { log_entry_created: { enabled: true, channelId: locked.id } } }, 'test');
    await waitFor(() => stack.worker.settings.current.version === s.version);
    const a = await createLogEntry(stack.db.prisma, { machineId, text: 'No permission' });
    const [da] = await deliveredFor('log_entry_created', a.id);
    expect(da?.status).toBe('failed');
    expect(da?.attempts).toBe(1);
    expect(da?.lastError).toMatch(/50013|Send Messages/);

    s = await updateSettings(stack.db.prisma, { events: { log_entry_created: { enabled: true, channelId: '1999999999999999999' } } }, 'test');
    await waitFor(() => stack.worker.settings.current.version === s.version);
    const b = await createLogEntry(stack.db.prisma, { machineId, text: 'Unknown channel' });
    const [db] = await deliveredFor('log_entry_created', b.id);
    expect(db?.status).toBe('failed');
    expect(db?.attempts).toBe(1);
    expect(db?.lastError).toMatch(/10003|unknown channel/i);

    s = await updateSettings(stack.db.prisma, { events: { log_entry_created: { enabled: true, channelId: null } } }, 'test');
    await waitFor(() => stack.worker.settings.current.version === s.version);
  });
});

describe('hostile text', () => {
  it('@everyone, 10,000 characters and emoji: posted within limits, pinging nobody', async () => {
    const text = `@everyone @here <@&123456789012345678> <@123456789012345678> ${'🎱👩‍🔧 pinball '.repeat(800)}`;
    expect(text.length).toBeGreaterThan(10_000);
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: text, reporterName: '@everyone' });
    const [d] = await deliveredFor('problem_report_created', pr.id);
    expect(d?.status).toBe('delivered');
    const msg = messageById(d!.discordMessageId)!;
    expect(msg.mention_everyone).toBe(false);
    expect(msg.mentions).toEqual([]);
    expect(msg.mention_roles).toEqual([]);
    const desc = embedsOf(msg)[0]!.description!;
    expect([...desc].length).toBeLessThanOrEqual(4096);
    expect(desc).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
