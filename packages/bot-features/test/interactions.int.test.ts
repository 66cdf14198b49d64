/**
 * The interactions endpoint with real Ed25519 signatures (the simulator's
 * test keypair), and buttons clicked through the simulator: the click goes
 * through the domain services, the outbox and the worker, and the post
 * changes in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_DEFAULTS } from '@flipfix/config';
import {
  claimProblemReport,
  createMachine,
  createPartRequest,
  createProblemReport,
  getPartRequest,
  getProblemReport,
  setProblemReportStatus,
} from '@flipfix/db';
import { signDiscordRequest } from '@flipfix/discord';
import { buttonsOf, embedsOf, settled, startFeatureStack, waitFor, type FeatureStack } from './stack';

let stack: FeatureStack;
let machineId: number;

beforeAll(async () => {
  stack = await startFeatureStack({ interactions: true });
  machineId = (await createMachine(stack.db.prisma, { name: 'Medieval Madness', shortName: 'MM' })).id;
});
afterAll(async () => {
  await stack?.close();
});

const url = () => `${stack.webUrl}/discord/interactions`;
let seq = 0;
function interactionBody(extra: Record<string, unknown> = {}): string {
  seq++;
  return JSON.stringify({ id: `13000000000000${String(seq).padStart(5, '0')}`, type: 1, application_id: '1100000000000000010', token: `tok-${seq}`, ...extra });
}
async function send(body: string, headers: Record<string, string>) {
  const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}
function signed(body: string, timestampSeconds = Math.floor(Date.now() / 1000)) {
  const timestamp = String(timestampSeconds);
  return { 'x-signature-ed25519': signDiscordRequest(SIM_DEFAULTS.privateKeySeed, timestamp, body), 'x-signature-timestamp': timestamp };
}

describe('signature checks', () => {
  it('answers a signed PING with {"type":1}', async () => {
    const body = interactionBody();
    const r = await send(body, signed(body));
    expect(r).toEqual({ status: 200, json: { type: 1 } });
  });

  it('refuses a missing signature, a wrong one and a body changed after signing with 401', async () => {
    const body = interactionBody();
    expect((await send(body, {})).status).toBe(401);
    expect((await send(body, { 'x-signature-timestamp': String(Math.floor(Date.now() / 1000)) })).status).toBe(401);
    const h = signed(body);
    expect((await send(body, { ...h, 'x-signature-ed25519': h['x-signature-ed25519'].replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) })).status).toBe(401);
    expect((await send(body.replace('"type":1', '"type":3'), h)).status).toBe(401);
    // Signed by another key.
    const otherSeed = 'aa'.repeat(32);
    const ts = String(Math.floor(Date.now() / 1000));
    expect((await send(body, { 'x-signature-ed25519': signDiscordRequest(otherSeed, ts, body), 'x-signature-timestamp': ts })).status).toBe(401);
  });

  it('refuses timestamps more than 5 minutes old or ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = interactionBody();
    expect((await send(stale, signed(stale, now - 301))).status).toBe(401);
    const ahead = interactionBody();
    expect((await send(ahead, signed(ahead, now + 301))).status).toBe(401);
    const fresh = interactionBody();
    expect((await send(fresh, signed(fresh, now - 200))).status).toBe(200);
  });

  it('refuses a replayed request: same signature, or same interaction id signed again', async () => {
    const body = interactionBody();
    const h = signed(body);
    expect((await send(body, h)).status).toBe(200);
    expect((await send(body, h)).status).toBe(401);
    // Same interaction id, new timestamp (so a new, valid signature).
    expect((await send(body, signed(body, Math.floor(Date.now() / 1000) - 1))).status).toBe(401);
  });

  it('answers an unknown or malformed custom_id with an ephemeral error', async () => {
    // 2147483648 is one past a Postgres integer: it used to reach the query and answer "Something went wrong".
    for (const customId of ['explode:problem_report:1', 'claim:part_request:1', 'claim:problem_report:abc', '', 'claim:problem_report:2147483648']) {
      const body = interactionBody({ type: 3, data: { custom_id: customId, component_type: 2 }, member: { user: { id: '1', username: 'eve' } } });
      const r = await send(body, signed(body));
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(String((r.json?.data as { content?: string } | undefined)?.content)).toMatch(/not recognized/);
    }
  });
});

describe('buttons through the simulator', () => {
  const channel = () => stack.sim.channelId;
  const message = (id: string | null) => stack.sim.messages(channel()).find((m) => m.id === id);
  const claimedBy = (id: string | null) => embedsOf(message(id))[0]?.fields?.find((f) => f.name === 'Claimed by')?.value;

  it('Claim records the clicking user, edits the post and refuses a second claim', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Castle gate does not open' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const messageId = post!.discordMessageId;
    expect(buttonsOf(message(messageId)).map((b) => b.label)).toEqual(['View in Flipfix', 'Claim', 'Close']);

    const click = await stack.sim.click({ channelId: channel(), messageId: messageId!, customId: `claim:problem_report:${pr.id}`, user: { id: '1100000000000000901', username: 'Ada' } });
    expect(click.applied).toBe('ephemeral');
    expect(click.response).toMatchObject({ type: 4, data: { flags: 64, content: `You claimed problem report #${pr.id}.` } });
    expect((await getProblemReport(stack.db.prisma, pr.id)).claimedByName).toBe('Ada');

    await waitFor(() => claimedBy(messageId) === 'Ada', { what: 'post shows Claimed by Ada' });
    const buttons = buttonsOf(message(messageId));
    expect(buttons.find((b) => b.label === 'Claim')?.disabled).toBe(true);
    expect(buttons.find((b) => b.label === 'Close')?.disabled).toBe(false);
    expect(message(messageId)?.edited_timestamp).toBeTruthy();
    // Still one message for the report: the claim edited it.
    expect(stack.sim.messages(channel()).filter((m) => embedsOf(m)[0]?.footer?.text === `Problem report #${pr.id}`)).toHaveLength(1);

    // The button is disabled on the post now, so send the second click as a stale client would.
    const body = JSON.stringify({
      id: '1300000000000099001',
      type: 3,
      application_id: '1100000000000000010',
      token: 'stale-client',
      data: { custom_id: `claim:problem_report:${pr.id}`, component_type: 2 },
      member: { user: { id: '1100000000000000902', username: 'grace', global_name: 'Grace' } },
    });
    const again = await send(body, signed(body));
    expect(again.json).toMatchObject({ type: 4, data: { flags: 64, content: 'Already claimed by Ada.' } });
    expect((await getProblemReport(stack.db.prisma, pr.id)).claimedByName).toBe('Ada');
  });

  it('Close closes the report (actor = clicker), recolours the post and leaves Reopen as its only action', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Trolls stuck up' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const messageId = post!.discordMessageId!;
    const click = await stack.sim.click({ channelId: channel(), messageId, customId: `close:problem_report:${pr.id}`, user: { id: '1100000000000000903', username: 'Linus' } });
    expect(click.response).toMatchObject({ data: { content: `You closed problem report #${pr.id}.`, flags: 64 } });
    const report = await getProblemReport(stack.db.prisma, pr.id);
    expect(report.status).toBe('closed');
    const event = await stack.db.prisma.outboxEvent.findFirst({ where: { type: 'problem_report_status_changed', entityId: pr.id } });
    expect(event?.actorName).toBe('Linus');

    await waitFor(() => embedsOf(message(messageId))[0]?.color === 3066993, { what: 'post recoloured' });
    expect(embedsOf(message(messageId))[0]?.fields?.find((f) => f.name === 'Status')?.value).toBe('Closed');
    expect(buttonsOf(message(messageId)).map((b) => b.label)).toEqual(['View in Flipfix', 'Reopen']);

    const body = JSON.stringify({
      id: '1300000000000099002',
      type: 3,
      application_id: '1100000000000000010',
      token: 'stale-client-2',
      data: { custom_id: `close:problem_report:${pr.id}`, component_type: 2 },
      member: { user: { id: '1100000000000000903', username: 'Linus' } },
    });
    const again = await send(body, signed(body));
    expect(again.json).toMatchObject({ data: { content: `Problem report #${pr.id} is already closed.` } });
    expect(await stack.db.prisma.logEntry.count({ where: { problemReportId: pr.id } })).toBe(1);

    const reopen = await stack.sim.click({ channelId: channel(), messageId, customId: `reopen:problem_report:${pr.id}`, user: { id: '1100000000000000903', username: 'Linus' } });
    expect(reopen.response).toMatchObject({ data: { content: `You reopened problem report #${pr.id}.`, flags: 64 } });
    expect((await getProblemReport(stack.db.prisma, pr.id)).status).toBe('open');
    await waitFor(() => embedsOf(message(messageId))[0]?.color === 15158332, { what: 'post red again' });
    await waitFor(() => buttonsOf(message(messageId)).map((b) => b.label).join() === 'View in Flipfix,Claim,Close', { what: 'Claim and Close back' });
  });

  it('Mark ordered then Mark received post updates and edit the request post', async () => {
    const req = await createPartRequest(stack.db.prisma, { text: 'Flipper rebuild kit', machineId, requestedByName: 'Bob' });
    const [post] = await settled(stack.db, 'part_request_created', req.id);
    const messageId = post!.discordMessageId!;
    expect(buttonsOf(message(messageId)).map((b) => b.label)).toEqual(['View in Flipfix', 'Mark ordered']);

    const ordered = await stack.sim.click({ channelId: channel(), messageId, customId: `ordered:part_request:${req.id}`, user: { id: '1100000000000000904', username: 'Margaret' } });
    expect(ordered.response).toMatchObject({ data: { content: `You marked part request #${req.id} ordered.`, flags: 64 } });
    expect((await getPartRequest(stack.db.prisma, req.id)).status).toBe('ordered');
    await waitFor(() => buttonsOf(message(messageId)).some((b) => b.label === 'Mark received'), { what: 'Mark received button' });
    expect(embedsOf(message(messageId))[0]?.fields?.find((f) => f.name === 'Status')?.value).toBe('Ordered');
    // The update is a real record and posts like any update.
    const update = await stack.db.prisma.partRequestUpdate.findFirstOrThrow({ where: { partRequestId: req.id } });
    expect(update).toMatchObject({ text: 'Marked ordered from Discord', newStatus: 'ordered', postedByName: 'Margaret' });
    const rows = await settled(stack.db, 'part_request_update_created', update.id);
    expect(rows.map((r) => [r.action, r.status]).sort()).toEqual([
      ['edit', 'delivered'],
      ['post', 'delivered'],
    ]);

    const received = await stack.sim.click({ channelId: channel(), messageId, customId: `received:part_request:${req.id}`, user: { id: '1100000000000000904', username: 'Margaret' } });
    expect(received.response).toMatchObject({ data: { content: `You marked part request #${req.id} received.` } });
    await waitFor(() => embedsOf(message(messageId))[0]?.fields?.find((f) => f.name === 'Status')?.value === 'Received', { what: 'status Received' });
    expect(buttonsOf(message(messageId)).map((b) => b.label)).toEqual(['View in Flipfix']);

    // Two quick stale clicks on "ordered" now: both refused, no new update.
    const stale = (n: number) =>
      JSON.stringify({
        id: `130000000000009910${n}`,
        type: 3,
        application_id: '1100000000000000010',
        token: `stale-${n}`,
        data: { custom_id: `ordered:part_request:${req.id}`, component_type: 2 },
        member: { user: { id: '1', username: 'x' } },
      });
    const [a, b] = await Promise.all([stale(1), stale(2)].map((s) => send(s, signed(s))));
    expect(a?.json).toMatchObject({ data: { content: `Part request #${req.id} is already marked received.` } });
    expect(b?.json).toMatchObject({ data: { content: `Part request #${req.id} is already marked received.` } });
    expect(await stack.db.prisma.partRequestUpdate.count({ where: { partRequestId: req.id } })).toBe(2);
  });
});

describe('edits in place from other writers', () => {
  const channel = () => stack.sim.channelId;
  const message = (id: string | null) => stack.sim.messages(channel()).find((m) => m.id === id);

  it('closing and reopening edit the post; a claim through the service edits it too', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Catapult weak' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const id = post!.discordMessageId;
    await setProblemReportStatus(stack.db.prisma, pr.id, 'closed', 'Ada');
    await waitFor(() => buttonsOf(message(id)).map((b) => b.label).join() === 'View in Flipfix,Reopen', { what: 'closed post' });
    await setProblemReportStatus(stack.db.prisma, pr.id, 'open', 'Ada');
    await waitFor(() => embedsOf(message(id))[0]?.color === 15158332 && buttonsOf(message(id)).length === 3, { what: 'reopened post' });
    await claimProblemReport(stack.db.prisma, pr.id, 'Grace');
    await waitFor(() => embedsOf(message(id))[0]?.fields?.some((f) => f.name === 'Claimed by' && f.value === 'Grace'), { what: 'claimed post' });
    // The ledger is written once Discord has answered: it settles a moment after the message changed.
    const edits = await settled(stack.db, 'problem_report_status_changed', pr.id);
    expect(edits.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(edits.every((e) => e.action === 'edit')).toBe(true);
  });

  it('an edit of a deleted message (10008) is recorded as skipped, not failed', async () => {
    const pr = await createProblemReport(stack.db.prisma, { machineId, description: 'Moat lights out' });
    const [post] = await settled(stack.db, 'problem_report_created', pr.id);
    const del = await fetch(`${stack.sim.apiUrl}/v10/channels/${channel()}/messages/${post!.discordMessageId}`, {
      method: 'DELETE',
      headers: { authorization: `Bot ${stack.sim.token}` },
    });
    expect(del.status).toBe(204);
    await setProblemReportStatus(stack.db.prisma, pr.id, 'closed', 'Ada');
    const rows = await settled(stack.db, 'problem_report_status_changed', pr.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'edit', status: 'skipped', lastError: expect.stringContaining('the original message was deleted') });
  });
});

describe('slow work', () => {
  it('answers deferred (type 5) and completes the reply through the interaction webhook', async () => {
    const slow = await startFeatureStack({ interactions: { deferAfterMs: 0 } });
    try {
      const m = await createMachine(slow.db.prisma, { name: 'Attack from Mars', shortName: 'AFM' });
      const pr = await createProblemReport(slow.db.prisma, { machineId: m.id, description: 'Saucer lamp out' });
      const [post] = await settled(slow.db, 'problem_report_created', pr.id);
      const click = await slow.sim.click({ channelId: slow.sim.channelId, messageId: post!.discordMessageId!, customId: `claim:problem_report:${pr.id}`, user: { id: '1100000000000000905', username: 'Ada' } });
      expect(click.response).toEqual({ type: 5, data: { flags: 64 } });
      expect(click.applied).toBe('deferred');
      const reply = await waitFor(() => {
        const source = slow.sim.messages(slow.sim.channelId).find((x) => x.id === post!.discordMessageId) as { ephemeral?: { content?: string }[] } | undefined;
        const content = source?.ephemeral?.[0]?.content;
        return content ? content : undefined;
      }, { what: 'deferred reply completed' });
      expect(reply).toBe(`You claimed problem report #${pr.id}.`);
    } finally {
      await slow.close();
    }
  });
});
