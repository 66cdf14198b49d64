import { once } from 'node:events';
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIM_DEFAULTS } from '@flipfix/config';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { privateKeyFromSeed, publicKeyHex } from '../src/index';
import { setup } from './helpers';

const { sim } = await setup({ rateLimits: { perChannel: null, global: null } });

/** A stand-in for the web app's interactions endpoint: records requests, answers what the test says. */
let answer: (payload: Record<string, unknown>) => unknown = () => ({ type: 6 });
const received: { headers: IncomingMessage['headers']; raw: string }[] = [];
const app: Server = createServer(async (req, res) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  received.push({ headers: req.headers, raw });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(answer(JSON.parse(raw) as Record<string, unknown>)));
});
app.listen(0, '127.0.0.1');
await once(app, 'listening');
const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/discord/interactions`;

afterAll(async () => {
  app.close();
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.configure({ rateLimits: { perChannel: null, global: null }, interactionsUrl: appUrl });
  received.length = 0;
});

async function postWithButton(): Promise<string> {
  const res = await fetch(`${sim.apiUrl}/channels/${sim.channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bot ${sim.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      content: 'Godzilla: stuck ball',
      components: [{ type: 1, components: [{ type: 2, style: 3, label: 'Mark fixed', custom_id: 'report:42:close' }] }],
    }),
  });
  return ((await res.json()) as { id: string }).id;
}

const click = (messageId: string) => sim.click({ channelId: sim.channelId, messageId, customId: 'report:42:close', user: { id: '1100000000000000999', username: 'ada' } });

describe('interactions', () => {
  it('derives the documented public key from the seed', () => {
    expect(publicKeyHex(privateKeyFromSeed(SIM_DEFAULTS.privateKeySeed))).toBe(SIM_DEFAULTS.publicKey);
  });

  it('signs a MESSAGE_COMPONENT interaction that verifies with the public key', async () => {
    const messageId = await postWithButton();
    await click(messageId);
    const [req] = received;
    const signature = req!.headers['x-signature-ed25519'] as string;
    const timestamp = req!.headers['x-signature-timestamp'] as string;
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(SIM_DEFAULTS.publicKey, 'hex')]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(timestamp + req!.raw), key, Buffer.from(signature, 'hex'))).toBe(true);
    expect(verify(null, Buffer.from(`${timestamp}${req!.raw} `), key, Buffer.from(signature, 'hex'))).toBe(false);
    const payload = JSON.parse(req!.raw) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 3,
      application_id: sim.state.botUser.id,
      channel_id: sim.channelId,
      data: { custom_id: 'report:42:close', component_type: 2 },
      member: { user: { id: '1100000000000000999', username: 'ada' } },
      message: { id: messageId },
    });
    expect(typeof payload.token).toBe('string');
  });

  it('applies UPDATE_MESSAGE (7) as an edit', async () => {
    answer = () => ({ type: 7, data: { content: 'Godzilla: fixed by ada', components: [] } });
    const messageId = await postWithButton();
    const result = await click(messageId);
    expect(result.applied).toBe('update');
    const [message] = sim.messages(sim.channelId);
    expect(message).toMatchObject({ content: 'Godzilla: fixed by ada', components: [] });
    expect(message?.edited_timestamp).not.toBeNull();
  });

  it('stores an ephemeral CHANNEL_MESSAGE_WITH_SOURCE (4) reply for display only', async () => {
    answer = () => ({ type: 4, data: { content: 'Closed the report.', flags: 64 } });
    const messageId = await postWithButton();
    expect((await click(messageId)).applied).toBe('ephemeral');
    const messages = sim.messages(sim.channelId);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.ephemeral).toMatchObject([{ content: 'Closed the report.', user: { username: 'ada' } }]);
  });

  it('completes a deferred (5) answer through the follow-up webhook routes', async () => {
    answer = () => ({ type: 5 });
    const messageId = await postWithButton();
    const result = await click(messageId);
    expect(result.applied).toBe('deferred');
    const base = `${sim.apiUrl}/webhooks/${sim.state.botUser.id}/${result.interaction.token}`;
    const res = await fetch(`${base}/messages/@original`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Report closed.' }),
    });
    expect(res.status).toBe(200);
    const follow = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: 'Follow-up' }) });
    expect(follow.status).toBe(200);
    expect(sim.messages(sim.channelId).map((m) => [m.content, m.deferred])).toEqual([
      ['Godzilla: stuck ball', false],
      ['Report closed.', false],
      ['Follow-up', false],
    ]);
  });

  it('reports a failed interaction when the app answers garbage', async () => {
    answer = () => ({ type: 99 });
    const messageId = await postWithButton();
    const result = await click(messageId);
    expect(result.applied).toBe('failed');
    expect(result.error).toMatch(/This interaction failed/);
  });

  it('clicks through the control API', async () => {
    answer = () => ({ type: 6 });
    const messageId = await postWithButton();
    const res = await fetch(`${sim.url}/_sim/interactions/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channelId: sim.channelId, messageId, customId: 'report:42:close' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 200, applied: 'deferred_update', response: { type: 6 } });
    const missing = await fetch(`${sim.url}/_sim/interactions/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channelId: sim.channelId, messageId, customId: 'nope' }),
    });
    expect(missing.status).toBe(404);
  });
});
