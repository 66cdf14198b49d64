/**
 * A reporter's contact is private ("only maintainers see it"): through the
 * whole pipeline (web API and public form → outbox → worker → bot post and
 * legacy webhook post in the simulator), no post, webhook body, log line or
 * public page carries it. Every process logs at trace level into a buffer
 * that is searched too.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBotFeatures } from '@flipfix/bot-features';
import { DEFAULT_REDIS_URL } from '@flipfix/config';
import { createTestDatabase, type TestDatabase } from '@flipfix/db';
import { createDiscordRest } from '@flipfix/discord';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { withLegacyWebhooks } from '@flipfix/legacy-webhooks';
import { createLogger } from '@flipfix/logger';
import { waitFor } from '@flipfix/testing';
import { type RunningWorker, startWorker } from '@flipfix/worker';
import { call, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

const CONTACT = 'secret-contact@example.com';
const FORM_CONTACT = 'form-contact-555-0199';

let sim: Simulator;
let database: TestDatabase;
let worker: RunningWorker;
let web: TestWeb;
const logs: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logs.push(chunk.toString());
    done();
  },
});
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: { perChannel: null, global: null, perRoute: null } });
  database = await createTestDatabase();
  const prefix = `t-contact-${randomBytes(5).toString('hex')}`;
  worker = await startWorker({
    databaseUrl: database.url,
    redis: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix,
    baseUrl: 'http://localhost:3000',
    discord: { token: sim.token, apiUrl: sim.apiUrl, channelId: sim.channelId, timeoutMs: 3000 },
    log: createLogger({ name: 'worker', level: 'trace', destination: sink }),
    retry: { attempts: 3, backoffMs: 100, jitter: 0 },
    relayPollMs: 200,
    extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx)),
  });
  web = await startTestWeb({
    database,
    prefix,
    log: createLogger({ name: 'web', level: 'trace', destination: sink }),
    discordRest: createDiscordRest({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 3000 }),
    discordToken: sim.token,
    config: { defaultChannelId: sim.channelId, discordCacheMs: 0, simulatorUrl: sim.url, allowDevelopmentWebhookUrls: true },
  });
  // Both paths: the bot posts, and the legacy webhook gets the same body.
  const hook = sim.createWebhook(sim.channelId, 'Legacy Flipfix');
  expect((await call(web.url, 'POST', '/api/admin/webhook-endpoints', { name: 'Legacy', url: hook.url, events: ['problem_report_created'] }, admin)).status).toBe(201);
  expect((await call(web.url, 'PATCH', '/api/admin/settings', { deliveryMode: 'both' }, admin)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await web?.close();
  await worker?.close(5000);
  await sim?.close();
  await database?.drop();
});

describe("the reporter's contact", () => {
  it('is in no post, webhook body, log line or public page', async () => {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Twilight Zone', shortName: 'TZ' })).body as { id: number };
    const onlyContact = await call(web.url, 'POST', '/api/problem-reports', { machineId: machine.id, description: 'Clock stuck', reporterContact: CONTACT });
    expect(onlyContact.status).toBe(201);
    const named = await call(web.url, 'POST', '/api/problem-reports', { machineId: machine.id, description: 'Gumball jam', reporterName: 'Val', reporterContact: CONTACT });
    const form = await call(
      web.url,
      'POST',
      '/problem-reports',
      new URLSearchParams({ machineId: String(machine.id), description: 'Powerball lost', reporterContact: FORM_CONTACT }).toString(),
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(form.status).toBe(303);
    const formId = Number(/\/problem-reports\/(\d+)/.exec(form.headers.get('location') ?? '')?.[1]);
    const ids = [onlyContact.body.id as number, named.body.id as number, formId];

    // Each report reaches Discord twice: a bot post and a webhook post.
    const delivered = () => database.db.prisma.delivery.count({ where: { status: 'delivered', event: { entityId: { in: ids }, type: 'problem_report_created' } } });
    await waitFor(async () => (await delivered()) === 6, { what: 'bot and webhook posts of the three reports', timeoutMs: 20_000 });

    const messages = sim.messages(sim.channelId);
    const posted = JSON.stringify(messages);
    expect(posted).toContain('Clock stuck');
    expect(messages.filter((m) => JSON.stringify(m).includes('Clock stuck'))).toHaveLength(2);
    expect(posted).toContain('— Anonymous');
    expect(posted).toContain('— Val');

    const pages = await Promise.all(
      ['/', '/problem-reports', ...ids.map((id) => `/problem-reports/${id}`), '/api/problem-reports', ...ids.map((id) => `/api/problem-reports/${id}`)].map(async (path) => {
        const res = await fetch(web.url + path);
        expect(res.status, path).toBe(200);
        return res.text();
      }),
    );
    expect(pages.join('\n')).toContain('Powerball lost');

    const everything = [posted, pages.join('\n'), logs.join('')];
    expect(logs.length).toBeGreaterThan(0);
    for (const text of everything) {
      expect(text).not.toContain(CONTACT);
      expect(text).not.toContain(FORM_CONTACT);
    }
  }, 60_000);
});
