import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest';
import { describe, expect, it } from 'vitest';
import { classifyDiscordError, scrubSecrets } from './classify';

const API = 'https://discord.com/api/v10';
const CHANNEL = '1100000000000000001';
const TOKEN = 'a'.repeat(68);
const noBody = { body: undefined, files: undefined };

const apiError = (status: number, code: number, message: string, url = `${API}/channels/${CHANNEL}/messages`, method = 'POST') =>
  new DiscordAPIError({ code, message }, code, status, method, url, noBody);

const rateLimit = (over: Partial<ConstructorParameters<typeof RateLimitError>[0]> = {}) =>
  new RateLimitError({
    timeToReset: 4200,
    limit: 5,
    method: 'POST',
    hash: 'abc',
    url: `${API}/channels/${CHANNEL}/messages`,
    route: '/channels/:id/messages',
    majorParameter: CHANNEL,
    global: false,
    retryAfter: 4200,
    sublimitTimeout: 0,
    scope: 'user',
    ...over,
  });

describe('classifyDiscordError', () => {
  it('rate limits: wait the time Discord asks, keep global and scope', () => {
    expect(classifyDiscordError(rateLimit())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 4200, global: false, scope: 'user' });
    expect(classifyDiscordError(rateLimit({ global: true, retryAfter: 1500.2, scope: 'global' }))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 1501,
      global: true,
      scope: 'global',
    });
  });

  it('a 429 surfacing as DiscordAPIError uses retry_after from the body', () => {
    const err = new DiscordAPIError({ code: 0, message: 'You are being rate limited.', retry_after: 2.5, global: true } as never, 0, 429, 'POST', `${API}/channels/${CHANNEL}/messages`, noBody);
    expect(classifyDiscordError(err)).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2500, global: true });
  });

  it('401: the token is rejected', () => {
    expect(classifyDiscordError(apiError(401, 0, '401: Unauthorized'))).toEqual({
      kind: 'permanent',
      target: 'token',
      status: 401,
      code: 0,
      reason: 'Discord rejects the bot token (0)',
    });
  });

  it('403: missing access / permissions name the channel and the permission', () => {
    expect(classifyDiscordError(apiError(403, 50001, 'Missing Access'))).toMatchObject({
      kind: 'permanent',
      target: 'permission',
      code: 50001,
      reason: `the bot cannot see channel ${CHANNEL} (50001 Missing Access)`,
    });
    expect(classifyDiscordError(apiError(403, 50013, 'Missing Permissions'))).toMatchObject({
      target: 'permission',
      reason: `the bot lacks Send Messages / Embed Links in channel ${CHANNEL} (50013)`,
    });
    expect(classifyDiscordError(apiError(403, 50013, 'Missing Permissions', `${API}/channels/${CHANNEL}/messages/1200000000000000000/threads`))).toMatchObject({
      reason: `the bot lacks Create Public Threads in channel ${CHANNEL} (50013)`,
    });
  });

  it('404: unknown channel, message, webhook', () => {
    expect(classifyDiscordError(apiError(404, 10003, 'Unknown Channel'))).toMatchObject({ kind: 'permanent', target: 'channel', code: 10003, reason: `unknown channel ${CHANNEL} (10003)` });
    expect(classifyDiscordError(apiError(404, 10008, 'Unknown Message', `${API}/channels/${CHANNEL}/messages/1200000000000000000`, 'PATCH'))).toMatchObject({
      target: 'message',
      reason: `unknown message 1200000000000000000 in channel ${CHANNEL} (10008)`,
    });
    const webhook = classifyDiscordError(apiError(404, 10015, 'Unknown Webhook', `${API}/webhooks/1300000000000000000/${TOKEN}?wait=true`));
    expect(webhook).toMatchObject({ kind: 'permanent', target: 'webhook', reason: 'unknown webhook 1300000000000000000 (10015): it was deleted' });
    expect(JSON.stringify(webhook)).not.toContain(TOKEN);
  });

  it('400: invalid body with Discord’s field errors; thread already exists', () => {
    const err = new DiscordAPIError(
      { code: 50035, message: 'Invalid Form Body', errors: { embeds: { 0: { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 4096 or fewer in length.' }] } } } } },
      50035,
      400,
      'POST',
      `${API}/channels/${CHANNEL}/messages`,
      noBody,
    );
    const c = classifyDiscordError(err);
    expect(c).toMatchObject({ kind: 'permanent', target: 'body', code: 50035 });
    expect(c.reason).toContain('embeds[0].description[BASE_TYPE_MAX_LENGTH]');
    expect(classifyDiscordError(apiError(400, 160004, 'A thread has already been created for this message'))).toMatchObject({ target: 'message', code: 160004 });
  });

  it('5xx and timeouts are transient', () => {
    expect(classifyDiscordError(new HTTPError(502, 'Bad Gateway', 'POST', `${API}/channels/${CHANNEL}/messages`, noBody))).toMatchObject({ kind: 'transient', status: 502 });
    expect(classifyDiscordError(new HTTPError(503, 'Service Unavailable', 'POST', `${API}/webhooks/1/${TOKEN}`, noBody)).reason).not.toContain(TOKEN);
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(classifyDiscordError(abort)).toEqual({ kind: 'transient', reason: 'the request to Discord timed out' });
    expect(classifyDiscordError(new DOMException('timed out', 'TimeoutError')).kind).toBe('transient');
  });

  it('network errors are transient, including undici’s wrapped causes', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(classifyDiscordError(reset)).toEqual({ kind: 'transient', reason: 'network error talking to Discord (ECONNRESET)' });
    const wrapped = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4100'), { code: 'ECONNREFUSED' }) });
    expect(classifyDiscordError(wrapped).reason).toContain('ECONNREFUSED');
    const socket = new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(classifyDiscordError(socket).kind).toBe('transient');
    expect(classifyDiscordError(new Error('other side closed')).kind).toBe('transient');
  });

  it('unknown errors are transient and their reasons are scrubbed', () => {
    const c = classifyDiscordError(new Error(`boom at https://discord.com/api/webhooks/123/${TOKEN} with Bot MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123`));
    expect(c.kind).toBe('transient');
    expect(c.reason).not.toContain(TOKEN);
    expect(c.reason).not.toContain('MTIzNDU2Nzg5MDEyMzQ1Njc4OQ');
    expect(classifyDiscordError('a string').kind).toBe('transient');
    expect(classifyDiscordError(undefined).kind).toBe('transient');
  });
});

describe('scrubSecrets', () => {
  it('hides webhook tokens, authorization values and token-shaped strings', () => {
    expect(scrubSecrets(`https://discord.com/api/webhooks/123/${TOKEN}?wait=true`)).toBe('https://discord.com/api/webhooks/123/***?wait=true');
    expect(scrubSecrets('Authorization: Bot abc.def.ghi')).toBe('Authorization: Bot ***');
  });
});
