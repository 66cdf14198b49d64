import { HTTPError } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setup } from './helpers';

const { sim, rest } = await setup();
const channel = sim.channelId;
const post = () => rest.post(Routes.channelMessages(channel), { body: { content: 'hi' } });
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.configure({ rateLimits: { perChannel: null, global: null } });
});

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('faults', () => {
  it('answers N 500s then recovers', async () => {
    sim.injectFaults({ fail: { count: 2, status: 500 } });
    for (let i = 0; i < 2; i++) {
      const err = await post().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HTTPError);
      expect((err as HTTPError).status).toBe(500);
    }
    await expect(post()).resolves.toHaveProperty('id');
    expect(sim.stats()).toMatchObject({ status5xx: 2, messagesCreated: 1, faultsAnswered: 2 });
  });

  it('limits 502s to one route and channel through the control API', async () => {
    const other = sim.createChannel({ name: 'other' });
    const res = await control('POST', '/faults', { fail: { count: 1, status: 502, method: 'POST', channelId: other.id } });
    expect(res.status).toBe(200);
    await expect(post()).resolves.toHaveProperty('id');
    const err = (await rest.post(Routes.channelMessages(other.id), { body: { content: 'x' } }).catch((e: unknown) => e)) as HTTPError;
    expect(err.status).toBe(502);
  });

  it('answers 503 to everything during an outage window, then recovers', async () => {
    sim.injectFaults({ outage: { durationMs: 300 } });
    const err = (await post().catch((e: unknown) => e)) as HTTPError;
    expect(err.status).toBe(503);
    const until = sim.state.faults.outage!.until;
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 10));
    await expect(post()).resolves.toHaveProperty('id');
  });

  it('drops a connection without answering', async () => {
    sim.injectFaults({ drop: { count: 1 } });
    const err = await fetch(`${sim.apiUrl}/users/@me`, { headers: { authorization: `Bot ${sim.token}` } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(sim.stats().droppedConnections).toBe(1);
    await expect(rest.get(Routes.user('@me'))).resolves.toHaveProperty('id');
  });

  it('adds latency', async () => {
    sim.injectFaults({ latencyMs: 150 });
    const started = performance.now();
    await post();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await control('DELETE', '/faults');
    const again = performance.now();
    await post();
    expect(performance.now() - again).toBeLessThan(140);
  });

  it('revokes the token until restored via the control API', async () => {
    await control('POST', '/faults', { revokeToken: true });
    const res = await fetch(`${sim.apiUrl}/users/@me`, { headers: { authorization: `Bot ${sim.token}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    await control('DELETE', '/faults');
    expect((await fetch(`${sim.apiUrl}/users/@me`, { headers: { authorization: `Bot ${sim.token}` } })).status).toBe(200);
  });

  it('rejects a bad control body with a readable message', async () => {
    const res = await control('POST', '/faults', { fail: { count: 0, status: 418 } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/fail\.count/);
  });
});

describe('control API', () => {
  it('creates channels and webhooks, lists messages and stats, resets', async () => {
    const created = (await (await control('POST', '/channels', { name: 'ops', permissions: { send: false } })).json()) as { id: string };
    const hook = (await (await control('POST', '/webhooks', { channelId: channel })).json()) as { id: string; token: string; url: string };
    expect(hook.url).toBe(`${sim.apiUrl}/webhooks/${hook.id}/${hook.token}`);
    await fetch(`${hook.url}?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: 'legacy' }) });
    const messages = (await (await control('GET', `/channels/${channel}/messages`)).json()) as { content: string; webhook_id: string }[];
    expect(messages).toMatchObject([{ content: 'legacy', webhook_id: hook.id }]);
    const stats = (await (await control('GET', '/stats')).json()) as { webhookExecutions: number };
    expect(stats.webhookExecutions).toBe(1);
    const state = (await (await control('GET', '/state')).json()) as { channels: { id: string; permissions: { send: boolean } }[]; version: number };
    expect(state.channels.find((c) => c.id === created.id)?.permissions.send).toBe(false);
    const unchanged = (await (await control('GET', `/state?since=${state.version}`)).json()) as { unchanged?: boolean };
    expect(unchanged.unchanged).toBe(true);
    await control('POST', '/reset');
    expect(sim.state.channels.has(created.id)).toBe(false);
    expect(sim.messages(channel)).toHaveLength(0);
  });

  it('keeps the display buffer bounded but the counts exact', async () => {
    const small = await (await import('../src/index')).startSimulator({ maxMessagesPerChannel: 3, rateLimits: { perChannel: null, global: null } });
    try {
      for (let i = 0; i < 5; i++) {
        await fetch(`${small.apiUrl}/channels/${small.channelId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bot ${small.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `m${i}` }),
        });
      }
      expect(small.messages(small.channelId).map((m) => m.content)).toEqual(['m2', 'm3', 'm4']);
      expect(small.stats().messagesCreated).toBe(5);
      expect(small.state.channels.get(small.channelId)?.message_count).toBe(5);
    } finally {
      await small.close();
    }
  });
});
