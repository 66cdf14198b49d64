import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyDiscordError } from './classify';
import {
  addReaction,
  createDiscordRest,
  editMessage,
  editWebhookMessage,
  executeWebhook,
  maskWebhookUrl,
  nonceFor,
  onRateLimitHeaders,
  parseWebhookUrl,
  postMessage,
  type RateLimitHeaders,
  startThread,
} from './rest';

const CHANNEL = '1100000000000000001';
const MESSAGE = '1200000000000000002';
const WEBHOOK_ID = '1300000000000000003';
const WEBHOOK_TOKEN = `tok_${'x'.repeat(64)}`;

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let api: string;
let seen: Seen[] = [];
let reply: Reply;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const okMessage: Reply = (_req, res) =>
  json(res, 200, { id: MESSAGE, channel_id: CHANNEL }, { 'x-ratelimit-bucket': 'bkt1', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '4.5' });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body: raw === '' ? undefined : JSON.parse(raw) });
      reply(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  reply = okMessage;
});

describe('poster', () => {
  it('posts with the bot token, a nonce and enforce_nonce', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    const msg = await postMessage(rest, CHANNEL, { content: 'hi', allowed_mentions: { parse: [] } }, { nonce: nonceFor('delivery-1') });
    expect(msg.id).toBe(MESSAGE);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: `/api/v10/channels/${CHANNEL}/messages`,
        auth: 'Bot bot-token',
        body: { content: 'hi', allowed_mentions: { parse: [] }, nonce: nonceFor('delivery-1'), enforce_nonce: true },
      },
    ]);
  });

  it('refuses ids that could change the route and over-long nonces', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    await expect(postMessage(rest, '../../users/@me', {}, { nonce: 'n' })).rejects.toThrow(TypeError);
    await expect(postMessage(rest, CHANNEL, {}, { nonce: 'x'.repeat(26) })).rejects.toThrow(RangeError);
    expect(seen).toEqual([]);
  });

  it('edits, starts threads and reacts on the right routes', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    await editMessage(rest, CHANNEL, MESSAGE, { embeds: [], allowed_mentions: { parse: [] } });
    await startThread(rest, CHANNEL, MESSAGE, { name: 'x'.repeat(150), autoArchiveDuration: 1440 });
    reply = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    await addReaction(rest, CHANNEL, MESSAGE, '👍🏽');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `PATCH /api/v10/channels/${CHANNEL}/messages/${MESSAGE}`,
      `POST /api/v10/channels/${CHANNEL}/messages/${MESSAGE}/threads`,
      `PUT /api/v10/channels/${CHANNEL}/messages/${MESSAGE}/reactions/${encodeURIComponent('👍🏽')}/@me`,
    ]);
    expect(seen[1]!.body).toEqual({ name: 'x'.repeat(100), auto_archive_duration: 1440 });
  });

  it('executes and edits webhooks without the bot token, waiting for the message', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    const url = `https://discord.com/api/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}`;
    const msg = await executeWebhook(rest, url, { content: 'legacy', allowed_mentions: { parse: [] } });
    expect(msg.id).toBe(MESSAGE);
    await editWebhookMessage(rest, url, MESSAGE, { content: 'edited' });
    expect(seen.map((s) => [s.method, s.url, s.auth])).toEqual([
      ['POST', `/api/v10/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}?wait=true`, undefined],
      ['PATCH', `/api/v10/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}/messages/${MESSAGE}`, undefined],
    ]);
    await expect(executeWebhook(rest, 'https://example.com/not-a-webhook', {})).rejects.toThrow('not a Discord webhook URL');
  });
});

describe('failures reach the classifier as Discord would produce them', () => {
  it('a 429 is thrown at once as a rate limit, with Discord’s wait', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    reply = (_req, res) =>
      json(res, 429, { message: 'You are being rate limited.', retry_after: 3.2, global: false }, {
        'retry-after': '3.2',
        'x-ratelimit-bucket': 'bkt1',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': '3.2',
        'x-ratelimit-scope': 'user',
      });
    const err = await postMessage(rest, CHANNEL, { content: 'x' }, { nonce: 'n1' }).catch((e: unknown) => e);
    const c = classifyDiscordError(err);
    expect(c.kind).toBe('rate_limited');
    if (c.kind === 'rate_limited') {
      expect(c.retryAfterMs).toBeGreaterThanOrEqual(3200);
      expect(c.retryAfterMs).toBeLessThan(3400);
    }
    expect(seen).toHaveLength(1);
  });

  it('an exhausted bucket is reported before any request is sent', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    reply = (_req, res) =>
      json(res, 200, { id: MESSAGE }, { 'x-ratelimit-bucket': 'bkt2', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '5' });
    // The first answer names the bucket; the client learns its state from the next one on that bucket.
    await postMessage(rest, CHANNEL, { content: 'x' }, { nonce: 'n1' });
    await postMessage(rest, CHANNEL, { content: 'y' }, { nonce: 'n2' });
    const err = await postMessage(rest, CHANNEL, { content: 'z' }, { nonce: 'n3' }).catch((e: unknown) => e);
    const c = classifyDiscordError(err);
    expect(c).toMatchObject({ kind: 'rate_limited', global: false });
    if (c.kind === 'rate_limited') expect(c.retryAfterMs).toBeGreaterThan(4000);
    expect(seen).toHaveLength(2);
  });

  it('Discord JSON errors, 5xx and timeouts', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api, timeoutMs: 200 });
    reply = (_req, res) => json(res, 404, { message: 'Unknown Channel', code: 10003 });
    expect(classifyDiscordError(await postMessage(rest, CHANNEL, {}, { nonce: 'a' }).catch((e: unknown) => e))).toMatchObject({
      kind: 'permanent',
      target: 'channel',
      code: 10003,
    });
    reply = (_req, res) => {
      res.writeHead(503, 'Service Unavailable');
      res.end('upstream down');
    };
    expect(classifyDiscordError(await postMessage(rest, CHANNEL, {}, { nonce: 'b' }).catch((e: unknown) => e))).toMatchObject({ kind: 'transient', status: 503 });
    expect(seen).toHaveLength(2);
    reply = () => {};
    expect(classifyDiscordError(await postMessage(rest, CHANNEL, {}, { nonce: 'c' }).catch((e: unknown) => e))).toEqual({
      kind: 'transient',
      reason: 'the request to Discord timed out',
    });
  });

  it('a webhook 404 names the webhook, never its token', async () => {
    const rest = createDiscordRest({ apiUrl: api });
    reply = (_req, res) => json(res, 404, { message: 'Unknown Webhook', code: 10015 });
    const err = await executeWebhook(rest, `https://discord.com/api/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}`, { content: 'x' }).catch((e: unknown) => e);
    const c = classifyDiscordError(err);
    expect(c).toMatchObject({ kind: 'permanent', target: 'webhook' });
    expect(JSON.stringify(c)).not.toContain(WEBHOOK_TOKEN);
  });
});

describe('onRateLimitHeaders', () => {
  it('reports bucket state per response, keyed by id and never by webhook token', async () => {
    const rest = createDiscordRest({ token: 'bot-token', apiUrl: api });
    const infos: RateLimitHeaders[] = [];
    const stop = onRateLimitHeaders(rest, (i) => infos.push(i));
    await postMessage(rest, CHANNEL, { content: 'x' }, { nonce: 'n' });
    await executeWebhook(rest, `https://discord.com/api/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}`, { content: 'x' });
    stop();
    await postMessage(rest, CHANNEL, { content: 'y' }, { nonce: 'm' });
    expect(infos).toHaveLength(2);
    expect(infos[0]).toEqual({
      bucket: 'bkt1',
      limit: 5,
      remaining: 4,
      resetAfterMs: 4500,
      retryAfterMs: null,
      global: false,
      scope: null,
      route: '/channels/:id/messages',
      majorParameter: CHANNEL,
      status: 200,
    });
    expect(infos[1]!.majorParameter).toBe(WEBHOOK_ID);
    expect(JSON.stringify(infos)).not.toContain(WEBHOOK_TOKEN);
  });
});

describe('webhook URLs and nonces', () => {
  it('parses the URL forms Discord hands out', () => {
    for (const host of ['https://discord.com/api', 'https://discordapp.com/api', 'https://canary.discord.com/api/v10', 'http://127.0.0.1:4100/api']) {
      expect(parseWebhookUrl(`${host}/webhooks/${WEBHOOK_ID}/${WEBHOOK_TOKEN}`)).toEqual({ id: WEBHOOK_ID, token: WEBHOOK_TOKEN });
    }
    for (const bad of ['', 'nope', 'ftp://discord.com/api/webhooks/1/t', 'https://discord.com/api/webhooks/abc/t', `https://discord.com/api/webhooks/${WEBHOOK_ID}/`, `https://discord.com/api/webhooks/${WEBHOOK_ID}/t/extra`]) {
      expect(parseWebhookUrl(bad), bad).toBeNull();
    }
  });

  it('masks the token', () => {
    expect(maskWebhookUrl(`https://discord.com/api/webhooks/123/${WEBHOOK_TOKEN}`)).toBe('https://discord.com/api/webhooks/123/***');
    expect(maskWebhookUrl(`http://127.0.0.1:4100/api/v10/webhooks/123/${WEBHOOK_TOKEN}`)).toBe('http://127.0.0.1:4100/api/v10/webhooks/123/***');
    expect(maskWebhookUrl(`garbage ${WEBHOOK_TOKEN}`)).toBe('***');
  });

  it('nonces are deterministic, distinct and at most 25 characters', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `delivery-${i}`);
    const nonces = ids.map(nonceFor);
    expect(new Set(nonces).size).toBe(ids.length);
    for (const n of nonces) expect(n).toMatch(/^[0-9a-z]{25}$/);
    expect(nonceFor('delivery-1')).toBe(nonceFor('delivery-1'));
  });
});
