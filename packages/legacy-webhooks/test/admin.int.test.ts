/**
 * The admin JSON API over HTTP, on a fresh database and the simulator:
 * validation with field messages, 404s, masking, test messages, and no
 * webhook token in any answer or log line.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@flipfix/db';
import { createDiscordRest } from '@flipfix/discord';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { createLogger } from '@flipfix/logger';
import { createWebhookAdminRouter, listWebhookEndpoints } from '../src/index';

let t: TestDatabase;
let sim: Simulator;
let server: Server;
let base: string;
const logLines: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await startSimulator({ port: 0 });
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ name: 'admin-test', level: 'debug', destination });
  const app = express();
  app.use('/api/admin', createWebhookAdminRouter({ prisma: t.db.prisma, log, webhookRest: createDiscordRest({ apiUrl: sim.apiUrl }), baseUrl: 'http://flipfix.test' }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/admin`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await sim?.close();
  await t?.drop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('webhook endpoints API', () => {
  const tokens: string[] = [];
  it('creates an endpoint, answering with the URL masked', async () => {
    const hook = sim.createWebhook(sim.channelId, 'workshop');
    tokens.push(hook.token);
    const r = await call('POST', '/webhook-endpoints', { name: ' Workshop ', url: hook.url, events: ['log_entry_created', 'problem_report_created'] });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      name: 'Workshop',
      url: `${sim.url}/api/webhooks/${hook.id}/***`,
      webhookId: hook.id,
      enabled: true,
      disabledReason: null,
      events: ['problem_report_created', 'log_entry_created'],
    });
    expect(r.text).not.toContain(hook.token);
    // The database keeps the real URL, for delivery.
    const row = await t.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: r.json.id as string } });
    expect(row.url).toBe(hook.url);
  });

  it('refuses bad input with a message per field, and never echoes the URL', async () => {
    const secret = 'tok-should-never-be-echoed-123456';
    const r = await call('POST', '/webhook-endpoints', { name: '', url: `https://discord.com/api/webhooks/12/${secret}`, events: ['nope'] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_request');
    expect(Object.keys(r.json.fields as object).sort()).toEqual(['events.0', 'name', 'url']);
    expect((r.json.fields as Record<string, string>).url).toMatch(/webhook URL/);
    expect(r.text).not.toContain(secret);

    const missing = await call('POST', '/webhook-endpoints', { name: 'x' });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.json.fields as object).sort()).toEqual(['events', 'url']);
  });

  it('a webhook already used by another endpoint is a conflict on url', async () => {
    const hook = sim.createWebhook(sim.channelId);
    tokens.push(hook.token);
    expect((await call('POST', '/webhook-endpoints', { name: 'A', url: hook.url, events: [] })).status).toBe(201);
    const again = await call('POST', '/webhook-endpoints', { name: 'B', url: hook.url.replace('127.0.0.1', 'localhost'), events: [] });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'conflict', fields: { url: expect.stringMatching(/already uses/) } });
  });

  it('lists, patches (events replace the set, enabled toggles with a reason) and deletes', async () => {
    const hook = sim.createWebhook(sim.channelId);
    tokens.push(hook.token);
    const created = await call('POST', '/webhook-endpoints', { name: 'Parts desk', url: hook.url, events: ['part_request_created'] });
    const id = created.json.id as string;

    const list = await call('GET', '/webhook-endpoints');
    expect((list.json.items as { id: string }[]).map((e) => e.id)).toContain(id);
    for (const token of tokens) expect(list.text).not.toContain(token);

    let r = await call('PATCH', `/webhook-endpoints/${id}`, { events: ['part_request_update_created'], enabled: false });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ events: ['part_request_update_created'], enabled: false, disabledReason: 'disabled by an admin' });
    expect(r.json.subscriptions).toEqual([
      { eventType: 'part_request_created', enabled: false },
      { eventType: 'part_request_update_created', enabled: true },
    ]);
    r = await call('PATCH', `/webhook-endpoints/${id}`, { enabled: true, name: 'Parts' });
    expect(r.json).toMatchObject({ name: 'Parts', enabled: true, disabledReason: null, disabledAt: null });

    expect((await call('PATCH', `/webhook-endpoints/${id}`, { url: 'http://example.org/nope' })).status).toBe(400);
    expect((await call('DELETE', `/webhook-endpoints/${id}`)).status).toBe(204);
    expect((await call('DELETE', `/webhook-endpoints/${id}`)).status).toBe(404);
    expect((await call('PATCH', `/webhook-endpoints/${id}`, { name: 'gone' })).json).toEqual({
      error: 'not_found',
      message: `Webhook endpoint ${id} not found`,
    });
    expect((await call('GET', '/webhook-endpoints/not-a-uuid')).status).toBe(404);
  });

  it('sends a test message through the webhook', async () => {
    const channel = sim.createChannel({ name: 'hooks' });
    const hook = sim.createWebhook(channel.id);
    tokens.push(hook.token);
    const id = (await call('POST', '/webhook-endpoints', { name: 'Test me', url: hook.url, events: [] })).json.id as string;
    const r = await call('POST', `/webhook-endpoints/${id}/test`, { eventType: 'log_entry_created' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, webhookId: hook.id, channelId: channel.id });
    const [message] = sim.messages(channel.id);
    expect(message?.id).toBe(r.json.messageId);
    expect(message?.webhook_id).toBe(hook.id);
    expect(message?.embeds[0]).toMatchObject({ title: expect.stringContaining('Test: ') });
    expect(message?.components ?? []).toEqual([]);
  });

  it('a test through a deleted webhook reports it and disables the endpoint', async () => {
    const hook = sim.createWebhook(sim.channelId);
    tokens.push(hook.token);
    const id = (await call('POST', '/webhook-endpoints', { name: 'Doomed', url: hook.url, events: ['log_entry_created'] })).json.id as string;
    sim.state.webhooks.delete(hook.id);
    const r = await call('POST', `/webhook-endpoints/${id}/test`);
    expect(r.json).toMatchObject({ ok: false, endpointDisabled: true, errorClass: 'permanent:webhook', error: expect.stringMatching(/10015/) });
    const endpoint = (await listWebhookEndpoints(t.db)).find((e) => e.id === id)!;
    expect(endpoint.enabled).toBe(false);
    expect(endpoint.disabledReason).toMatch(/unknown webhook/);
    expect((await call('POST', `/webhook-endpoints/${id}/test`, { eventType: 'bogus' })).status).toBe(400);
  });

  it('answers an empty rollout report before any event', async () => {
    const r = await call('GET', '/rollout');
    expect(r.json).toMatchObject({ events: 0, ready: false, mismatches: [] });
    expect((await call('GET', '/rollout?since=yesterday')).status).toBe(400);
  });

  it('no log line carries a webhook token', () => {
    expect(logLines.length).toBeGreaterThan(5);
    const all = logLines.join('');
    for (const token of tokens) expect(all).not.toContain(token);
    expect(all).toContain('webhook endpoint created');
  });
});
