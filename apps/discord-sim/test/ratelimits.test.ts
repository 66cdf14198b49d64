import { RateLimitError } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setup } from './helpers';

const { sim, client } = await setup();
const channel = sim.channelId;
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const send = (token = sim.token) =>
  fetch(`${sim.apiUrl}/v10/channels/${channel}/messages`, {
    method: 'POST',
    headers: { authorization: `Bot ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'hello' }),
  });

describe('rate limits', () => {
  it('answers the 6th quick message with a 429 and Discord headers', async () => {
    sim.configure({ rateLimits: { perChannel: { limit: 5, windowMs: 5000 } } });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await send());
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    const first = answers[0]!;
    expect(first.headers.get('x-ratelimit-limit')).toBe('5');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(4);
    expect(Number(first.headers.get('x-ratelimit-reset')) * 1000).toBeGreaterThan(Date.now());
    expect(first.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
    const limited = answers[5]!;
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    expect(limited.headers.get('x-ratelimit-global')).toBeNull();
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await limited.json()) as { message: string; retry_after: number; global: boolean };
    expect(body.message).toBe('You are being rate limited.');
    expect(body.global).toBe(false);
    expect(body.retry_after).toBeGreaterThan(4);
    expect(body.retry_after).toBeLessThanOrEqual(5);
    expect(sim.stats()).toMatchObject({ rateLimited: 1, invalidRequests: 1, messagesCreated: 5 });
  });

  it('keeps buckets per channel', async () => {
    sim.configure({ rateLimits: { perChannel: { limit: 1, windowMs: 5000 } } });
    const other = sim.createChannel({ name: 'other' });
    const rest = client();
    await rest.post(Routes.channelMessages(channel), { body: { content: 'a' } });
    await expect(rest.post(Routes.channelMessages(other.id), { body: { content: 'b' } })).resolves.toBeTruthy();
    await expect(rest.post(Routes.channelMessages(channel), { body: { content: 'c' } })).rejects.toBeInstanceOf(RateLimitError);
  });

  it('lets @discordjs/rest queue through the limit: all messages arrive, two clients sharing a channel meet 429s', async () => {
    sim.configure({ rateLimits: { perChannel: { limit: 2, windowMs: 400 } } });
    const a = client({ rejectOnRateLimit: null });
    const b = client({ rejectOnRateLimit: null });
    const started = Date.now();
    const sends = [];
    for (let i = 0; i < 3; i++) {
      sends.push(a.post(Routes.channelMessages(channel), { body: { content: `a${i}` } }));
      sends.push(b.post(Routes.channelMessages(channel), { body: { content: `b${i}` } }));
    }
    await Promise.all(sends);
    expect(sim.messages(channel)).toHaveLength(6);
    // Six messages at two per 400 ms take at least two refills.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    // Each client only sees its own answers, so the two together overrun the bucket.
    expect(sim.stats().rateLimited).toBeGreaterThan(0);
  });

  it('a single @discordjs/rest client reads the headers and never meets a 429', async () => {
    sim.configure({ rateLimits: { perChannel: { limit: 5, windowMs: 500 } } });
    const rest = client({ rejectOnRateLimit: null });
    await Promise.all(Array.from({ length: 6 }, (_, i) => rest.post(Routes.channelMessages(channel), { body: { content: `m${i}` } })));
    expect(sim.messages(channel)).toHaveLength(6);
    expect(sim.stats().rateLimited).toBe(0);
  });

  it('enforces the global limit per token', async () => {
    sim.configure({ rateLimits: { perChannel: null, global: { limit: 3, windowMs: 2000 } } });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await fetch(`${sim.apiUrl}/users/@me`, { headers: { authorization: `Bot ${sim.token}` } }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const limited = answers[3]!;
    expect(limited.headers.get('x-ratelimit-global')).toBe('true');
    expect(limited.headers.get('x-ratelimit-scope')).toBe('global');
    expect(await limited.json()).toMatchObject({ global: true, message: 'You are being rate limited.' });
    const err = await client()
      .get(Routes.user('@me'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).global).toBe(true);
    expect(sim.stats().globalRateLimited).toBe(2);
  });

  it('can turn every limit off for benchmarks', async () => {
    sim.configure({ rateLimits: { perChannel: null, global: null, perRoute: null } });
    const answers = await Promise.all(Array.from({ length: 200 }, () => send()));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(answers[0]!.headers.get('x-ratelimit-limit')).toBeNull();
    expect(sim.stats().messagesCreated).toBe(200);
  });
});
