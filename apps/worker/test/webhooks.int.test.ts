/**
 * The legacy webhook path end to end, on real Postgres, Redis, BullMQ and the
 * simulator: targets per delivery mode, 404 / 401 disabling an endpoint, 500
 * and 429 retried, the parity report, and no webhook token in any log line,
 * ledger row, queue entry or API response.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogEntry, createMachine, createPartRequest, createProblemReport, type DeliveryModeName, updateSettings } from '@flipfix/db';
import { createLogger } from '@flipfix/logger';
import {
  createWebhookAdminRouter,
  createWebhookEndpoint,
  createWebhookExtension,
  getWebhookEndpoint,
  rolloutReport,
  type WebhookEndpointView,
} from '@flipfix/legacy-webhooks';
import { deliveriesOf, embedsOf, REDIS_URL, startStack, waitFor, type Stack } from './harness';

let stack: Stack;
let machineId: number;
const logLines: string[] = [];
/** Every webhook token handed out in this file: none may leak. */
const tokens: string[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  stack = await startStack({
    sim: { rateLimits: { perChannel: null, global: null } },
    worker: {
      log: createLogger({ name: 'webhooks-test', level: 'debug', destination }),
      rateLimits: { defaultChannel: null, global: null },
      extend: (ctx) => createWebhookExtension(ctx),
    },
  });
  machineId = (await createMachine(stack.db.prisma, { name: 'Medieval Madness', shortName: 'MM' })).id;
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => {
  stack.sim.clearFaults();
});

async function setMode(deliveryMode: DeliveryModeName): Promise<void> {
  const s = await updateSettings(stack.db.prisma, { deliveryMode }, 'test');
  await waitFor(() => stack.worker.settings.current.version >= s.version, { what: 'settings reload' });
}

/** A webhook in a channel of its own, registered as an endpoint. */
async function endpoint(name: string, events: string[], options: { enabled?: boolean } = {}) {
  const channel = stack.sim.createChannel({ name: name.toLowerCase().replace(/\W+/g, '-') });
  const hook = stack.sim.createWebhook(channel.id, name);
  tokens.push(hook.token);
  const view = await createWebhookEndpoint(stack.db, { name, url: hook.url, events, ...options });
  return { view, hook, channelId: channel.id };
}

async function settled(type: string, entityId: number) {
  return waitFor(
    async () => {
      const event = await stack.db.prisma.outboxEvent.findFirst({ where: { type, entityId } });
      if (!event?.routedAt) return undefined;
      const rows = await deliveriesOf(stack.db, { type, entityId });
      return rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : undefined;
    },
    { what: `${type} #${entityId} settled` },
  );
}

const targetsOf = (rows: { target: string; targetKey: string }[]) => rows.map((r) => `${r.target}:${r.target === 'bot' ? 'channel' : r.targetKey}`).sort();

describe('delivery mode decides the targets', () => {
  it('webhooks, both and bot: exactly the expected targets receive each event', async () => {
    const a = await endpoint('Floor hook', ['log_entry_created', 'problem_report_created']);
    const b = await endpoint('Parts hook', ['part_request_created']);
    const off = await endpoint('Disabled hook', ['log_entry_created', 'part_request_created'], { enabled: false });

    const expected: Record<DeliveryModeName, { log: string[]; part: string[] }> = {
      webhooks: { log: [`webhook:${a.view.id}`], part: [`webhook:${b.view.id}`] },
      both: { log: ['bot:channel', `webhook:${a.view.id}`].sort(), part: ['bot:channel', `webhook:${b.view.id}`].sort() },
      bot: { log: ['bot:channel'], part: ['bot:channel'] },
    };
    for (const mode of ['webhooks', 'both', 'bot'] as const) {
      await setMode(mode);
      const counts = { bot: stack.sim.messages(stack.sim.channelId).length, a: stack.sim.messages(a.channelId).length, b: stack.sim.messages(b.channelId).length };
      const le = await createLogEntry(stack.db.prisma, { machineId, text: `log in ${mode}`, maintainerNames: ['Ada'] });
      const pr = await createPartRequest(stack.db.prisma, { text: `part in ${mode}`, machineId, requestedByName: 'Lin' });
      const logRows = await settled('log_entry_created', le.id);
      const partRows = await settled('part_request_created', pr.id);
      expect(targetsOf(logRows)).toEqual(expected[mode].log);
      expect(targetsOf(partRows)).toEqual(expected[mode].part);
      expect([...logRows, ...partRows].every((r) => r.status === 'delivered')).toBe(true);

      const botCount = mode === 'webhooks' ? 0 : 2;
      const hookCount = mode === 'bot' ? 0 : 1;
      expect(stack.sim.messages(stack.sim.channelId).length - counts.bot).toBe(botCount);
      expect(stack.sim.messages(a.channelId).length - counts.a).toBe(hookCount);
      expect(stack.sim.messages(b.channelId).length - counts.b).toBe(hookCount);
      expect(stack.sim.messages(off.channelId)).toHaveLength(0);

      if (mode === 'both') {
        // The same formatter: the same embeds, minus the buttons a webhook cannot send.
        const botMsg = stack.sim.messages(stack.sim.channelId).find((m) => m.id === logRows.find((r) => r.target === 'bot')!.discordMessageId)!;
        const hookRow = logRows.find((r) => r.target === 'webhook')!;
        const hookMsg = stack.sim.messages(a.channelId).find((m) => m.id === hookRow.discordMessageId)!;
        expect(hookMsg.webhook_id).toBe(a.hook.id);
        expect(embedsOf(hookMsg)).toEqual(embedsOf(botMsg));
        expect(botMsg.components?.length).toBeGreaterThan(0);
        expect(hookMsg.components ?? []).toEqual([]);
        expect(hookRow.discordChannelId).toBe(a.channelId);
        expect(hookRow.payload).toMatchObject({ embeds: expect.any(Array), allowed_mentions: { parse: [] } });
      }
    }
    // Subscriptions are per type: a problem report reaches only the endpoint subscribed to it.
    await setMode('webhooks');
    const report = await createProblemReport(stack.db.prisma, { machineId, description: 'Castle gate stuck' });
    const rows = await settled('problem_report_created', report.id);
    expect(targetsOf(rows)).toEqual([`webhook:${a.view.id}`]);
  });
});

describe('failures', () => {
  it('a webhook answering 404 Unknown Webhook fails at once and its endpoint is disabled', async () => {
    await setMode('webhooks');
    const gone = await endpoint('Deleted hook', ['log_entry_created']);
    stack.sim.state.webhooks.delete(gone.hook.id);
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'to a deleted webhook' });
    const row = (await settled('log_entry_created', le.id)).find((r) => r.targetKey === gone.view.id)!;
    expect(row).toMatchObject({ status: 'failed', attempts: 1, errorClass: 'permanent:webhook' });
    expect(row.lastError).toMatch(/unknown webhook .*10015/);
    const view = await getWebhookEndpoint(stack.db, gone.view.id);
    expect(view.enabled).toBe(false);
    expect(view.disabledReason).toMatch(/10015/);
    // The router no longer plans it.
    const next = await createLogEntry(stack.db.prisma, { machineId, text: 'after the disable' });
    expect((await settled('log_entry_created', next.id)).some((r) => r.targetKey === gone.view.id)).toBe(false);
  });

  it('a webhook with a wrong token (401, 50027) is disabled too, and the bot token is untouched', async () => {
    await setMode('both');
    const channel = stack.sim.createChannel({ name: 'wrong-token' });
    const hook = stack.sim.createWebhook(channel.id);
    tokens.push(hook.token);
    const wrong = `${hook.url.slice(0, hook.url.lastIndexOf('/'))}/not-the-token-0123456789`;
    tokens.push('not-the-token-0123456789');
    const ep = await createWebhookEndpoint(stack.db, { name: 'Wrong token', url: wrong, events: ['log_entry_created'] });
    const le = await createLogEntry(stack.db.prisma, { machineId, text: 'wrong webhook token' });
    const rows = await settled('log_entry_created', le.id);
    const row = rows.find((r) => r.targetKey === ep.id)!;
    expect(row).toMatchObject({ status: 'failed', attempts: 1, errorClass: 'permanent:webhook' });
    expect(row.lastError).toMatch(/invalid token .*50027/);
    expect((await getWebhookEndpoint(stack.db, ep.id)).enabled).toBe(false);
    expect(rows.find((r) => r.target === 'bot')?.status).toBe('delivered');
    // A later bot post still authenticates.
    const after = await createLogEntry(stack.db.prisma, { machineId, text: 'bot still fine' });
    expect((await settled('log_entry_created', after.id)).find((r) => r.target === 'bot')?.status).toBe('delivered');
  });

  it('500s are retried with backoff and the post is delivered once', async () => {
    await setMode('webhooks');
    const flaky = await endpoint('Flaky hook', ['part_request_created']);
    stack.sim.injectFaults({ fail: { count: 2, status: 500, method: 'POST', path: `/webhooks/${flaky.hook.id}` } });
    const pr = await createPartRequest(stack.db.prisma, { text: 'survives two 500s' });
    const row = (await settled('part_request_created', pr.id)).find((r) => r.targetKey === flaky.view.id)!;
    expect(row).toMatchObject({ status: 'delivered', attempts: 3 });
    const messages = stack.sim.messages(flaky.channelId).filter((m) => JSON.stringify(m.embeds).includes('survives two 500s'));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.id).toBe(row.discordMessageId);
  });

  it('a 429 from Discord is waited out (retry_after) and the post delivered once', async () => {
    await setMode('webhooks');
    const busy = await endpoint('Busy hook', ['log_entry_created']);
    stack.sim.configure({ rateLimits: { perChannel: { limit: 2, windowMs: 1500 } } });
    const before = stack.sim.stats().rateLimited;
    try {
      // Someone else (the legacy app, say) uses up the webhook's window first, so the
      // worker, which has not seen this bucket yet, draws a real 429 from Discord.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${busy.hook.url}?wait=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: `filler ${i}` }),
        });
        expect(res.status).toBe(200);
      }
      const le = await createLogEntry(stack.db.prisma, { machineId, text: 'waits out a 429' });
      const row = (await settled('log_entry_created', le.id)).find((r) => r.targetKey === busy.view.id)!;
      expect(stack.sim.stats().rateLimited).toBeGreaterThan(before);
      expect(row.status).toBe('delivered');
      // One attempt answered 429, the next one posted.
      expect(row.attempts).toBe(2);
      const posts = stack.sim.messages(busy.channelId).filter((m) => JSON.stringify(m.embeds).includes('waits out a 429'));
      expect(posts.map((m) => m.id)).toEqual([row.discordMessageId]);
    } finally {
      stack.sim.configure({ rateLimits: { perChannel: null } });
    }
  }, 40_000);
});

describe('rollout parity report', () => {
  let server: Server | undefined;
  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('a run in both shows all matches; a broken webhook and a failing one are caught', async () => {
    await setMode('both');
    // Earlier tests' endpoints stay, but only these subscribe to the types used here.
    await stack.db.prisma.webhookEventSubscription.updateMany({ data: { enabled: false } });
    const good = await endpoint('Parity hook', ['problem_report_created', 'log_entry_created', 'part_request_created']);
    const since = new Date();

    const report1 = await createProblemReport(stack.db.prisma, { machineId, description: 'Troll stuck up', priority: 'unplayable', photoUrls: ['https://img.example/a.jpg', 'https://img.example/b.jpg'] });
    const entry = await createLogEntry(stack.db.prisma, { machineId, text: 'Fixed the troll', problemReportId: report1.id, maintainerNames: ['Ada'] });
    const part = await createPartRequest(stack.db.prisma, { text: 'Troll motor', machineId });
    await settled('problem_report_created', report1.id);
    await settled('log_entry_created', entry.id);
    await settled('part_request_created', part.id);

    let report = await rolloutReport(stack.db, { since });
    expect(report).toMatchObject({
      events: 3,
      counts: { bothDelivered: 3, onlyBot: 0, onlyWebhook: 0, bothFailed: 0, pending: 0 },
      payloads: { compared: 3, equivalent: 3, different: 0 },
      mismatches: [],
      ready: true,
    });

    // Broken on purpose: the good webhook is deleted at Discord (404 → disabled), and a second
    // endpoint keeps answering 500 until its retries run out.
    const failing = await endpoint('Failing hook', ['log_entry_created']);
    stack.sim.state.webhooks.delete(good.hook.id);
    stack.sim.injectFaults({ fail: { count: 100, status: 500, method: 'POST', path: `/webhooks/${failing.hook.id}` } });
    const lost = await createLogEntry(stack.db.prisma, { machineId, text: 'Nobody hears this webhook' });
    await settled('log_entry_created', lost.id);
    stack.sim.clearFaults();

    report = await rolloutReport(stack.db, { since });
    expect(report.events).toBe(4);
    expect(report.counts).toEqual({ bothDelivered: 3, onlyBot: 1, onlyWebhook: 0, bothFailed: 0, pending: 0 });
    expect(report.ready).toBe(false);
    const [mismatch] = report.mismatches;
    expect(mismatch).toMatchObject({ eventId: expect.any(String), type: 'log_entry_created', entityId: lost.id, problem: 'webhook_failed', bot: { status: 'delivered' } });
    const byEndpoint = new Map(mismatch!.webhooks.map((w) => [w.endpointId, w]));
    expect(byEndpoint.get(good.view.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/unknown webhook/) });
    expect(byEndpoint.get(failing.view.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/500/) });
    expect((await getWebhookEndpoint(stack.db, good.view.id)).enabled).toBe(false);

    // A payload that drifted (as if the legacy formatter differed) is named field by field.
    const drifted = await stack.db.prisma.delivery.findFirstOrThrow({ where: { targetKey: good.view.id, event: { entityId: part.id, type: 'part_request_created' } } });
    const payload = drifted.payload as { embeds: { description: string }[] };
    payload.embeds[0]!.description = 'something else';
    await stack.db.prisma.delivery.update({ where: { id: drifted.id }, data: { payload } });

    // The same report over HTTP, as the console and an admin see it.
    const app = express();
    app.use('/api/admin', createWebhookAdminRouter({ prisma: stack.db.prisma, log: stack.workerOptions.log }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/admin/rollout?since=${since.toISOString()}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { counts: unknown; payloads: unknown; mismatches: { problem: string; entityId: number; webhooks: { differences?: string[] }[] }[] };
    expect(body.counts).toEqual({ bothDelivered: 3, onlyBot: 1, onlyWebhook: 0, bothFailed: 0, pending: 0 });
    expect(body.payloads).toEqual({ compared: 3, equivalent: 2, different: 1 });
    const differs = body.mismatches.find((m) => m.problem === 'payload_differs');
    expect(differs?.entityId).toBe(part.id);
    expect(differs?.webhooks[0]?.differences).toEqual(['embeds[0].description']);
  }, 40_000);
});

describe('secrets', () => {
  it('no webhook token in any log line, ledger row, queue entry or endpoint view', async () => {
    expect(tokens.length).toBeGreaterThan(5);
    const logs = logLines.join('');
    expect(logs).toContain('posted to discord webhook');
    // The failures were logged (by the one decision's application, with the webhook path's context).
    expect(logs).toMatch(/"path":"webhook"[^\n]*"msg":"delivery failed permanently"/);
    expect(logs).toMatch(/"path":"webhook"[^\n]*"msg":"rate limited by discord"/);

    const ledger = JSON.stringify(await stack.db.prisma.delivery.findMany());
    const endpoints = JSON.stringify((await stack.db.prisma.webhookEndpoint.findMany({ select: { id: true } })).length);
    const views: WebhookEndpointView[] = [];
    for (const { id } of await stack.db.prisma.webhookEndpoint.findMany({ select: { id: true } })) views.push(await getWebhookEndpoint(stack.db, id));
    const redisDump = await dumpRedis(stack.prefix);
    expect(redisDump).toContain('webhook-deliveries');
    for (const token of tokens) {
      expect(logs).not.toContain(token);
      expect(ledger).not.toContain(token);
      expect(JSON.stringify(views)).not.toContain(token);
      expect(redisDump).not.toContain(token);
    }
    expect(endpoints).not.toBe('0');
  });
});

/** Every key and value under a prefix (hashes, lists, sorted sets, strings), as text. */
async function dumpRedis(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        out.push(key);
        if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'string') out.push(String(await redis.get(key)));
        else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return out.join('\n');
}
