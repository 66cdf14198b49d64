import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { waitFor } from '@flipfix/testing';
import { SharedRateLimiter } from './rate-limiter';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
afterAll(async () => {
  await redis.quit();
});

function limiter(prefix = `test-rl-${randomUUID()}`, opts: Partial<ConstructorParameters<typeof SharedRateLimiter>[0]> = {}) {
  return new SharedRateLimiter({ redis, keyPrefix: prefix, ...opts });
}

describe('SharedRateLimiter (Redis)', () => {
  it('grants the channel limit, then says how long to wait', async () => {
    const rl = limiter(undefined, { defaultChannel: { limit: 5, windowMs: 5000 }, marginMs: 0 });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await rl.reserve('chan'));
    expect(results.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(results[5]).toBeGreaterThan(4000);
    expect(results[5]).toBeLessThanOrEqual(5000);
    // Another channel has its own window.
    expect(await rl.reserve('other')).toBe(0);
  });

  it('is shared: two limiters (two processes) on one prefix split one budget', async () => {
    const prefix = `test-rl-${randomUUID()}`;
    const a = limiter(prefix, { defaultChannel: { limit: 5, windowMs: 5000 } });
    const b = limiter(prefix, { defaultChannel: { limit: 5, windowMs: 5000 } });
    const grants = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).reserve('chan')));
    expect(grants.filter((w) => w === 0)).toHaveLength(5);
  });

  it('enforces the global limit across channels', async () => {
    const rl = limiter(undefined, { global: { limit: 3, windowMs: 1000 }, defaultChannel: null });
    const grants = await Promise.all(['a', 'b', 'c', 'd'].map((c) => rl.reserve(c)));
    expect(grants.filter((w) => w === 0)).toHaveLength(3);
  });

  it('learns a channel limit from headers and honours a 429 block', async () => {
    const rl = limiter(undefined, { defaultChannel: { limit: 1, windowMs: 1000 }, marginMs: 0 });
    await rl.observe('chan', { limit: 3, remaining: 2, resetAfterMs: 2000 });
    expect([await rl.reserve('chan'), await rl.reserve('chan'), await rl.reserve('chan')]).toEqual([0, 0, 0]);
    expect(await rl.reserve('chan')).toBeGreaterThan(1000);
    await rl.block('other', 700);
    const wait = await rl.reserve('other');
    expect(wait).toBeGreaterThan(500);
    expect(wait).toBeLessThanOrEqual(700);
  });

  it('null limits turn limiting off', async () => {
    const rl = limiter(undefined, { global: null, defaultChannel: null });
    const grants = await Promise.all(Array.from({ length: 100 }, () => rl.reserve('chan')));
    expect(grants.every((w) => w === 0)).toBe(true);
  });
});

describe('SharedRateLimiter across hosts whose clocks disagree', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('grants one window to three hosts skewed by -2 s, 0 and +2 s, and no more', async () => {
    const prefix = `test-rl-${randomUUID()}`;
    const hosts = [-2000, 0, 2000].map((skewMs) => ({ skewMs, rl: limiter(prefix, { defaultChannel: { limit: 5, windowMs: 5000 } }) }));
    const realNow = Date.now.bind(Date);
    let grants = 0;
    const waits: number[] = [];
    for (let i = 0; i < 15; i++) {
      const host = hosts[i % 3]!;
      // Each "host" sees its own wall clock while it reserves.
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + host.skewMs);
      const wait = await host.rl.reserve('chan');
      vi.restoreAllMocks();
      if (wait === 0) grants++;
      else waits.push(wait);
    }
    expect(grants).toBe(5);
    // Every refusal names the same remaining window, whichever host asked.
    expect(Math.max(...waits) - Math.min(...waits)).toBeLessThan(1000);
    expect(Math.min(...waits)).toBeGreaterThan(3500);
  });

  it('a 429 block lasts retry_after for every host, whatever its clock', async () => {
    const prefix = `test-rl-${randomUUID()}`;
    const early = limiter(prefix, { marginMs: 0 });
    const late = limiter(prefix, { marginMs: 0 });
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 2000);
    await early.block('chan', 1500);
    vi.restoreAllMocks();
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 2000);
    const wait = await late.reserve('chan');
    expect(wait).toBeGreaterThan(1000);
    expect(wait).toBeLessThanOrEqual(1500);
  });
});

describe('SharedRateLimiter and requests still in flight', () => {
  it('counts a request until it is answered, however long that takes', async () => {
    const rl = limiter(undefined, { global: { limit: 2, windowMs: 200 }, defaultChannel: null, marginMs: 0 });
    const slow = await rl.reserveSlot('a');
    const quick = await rl.reserveSlot('b');
    expect([slow.waitMs, quick.waitMs]).toEqual([0, 0]);
    await rl.settle('b', quick.slot);
    // The quick one's window passes; by then the slow one was sent more than a window ago.
    const c = await waitFor(async () => {
      const r = await rl.reserveSlot('c');
      return r.waitMs === 0 ? r : undefined;
    }, { what: 'a slot after the quick request\'s window' });
    await rl.settle('c', c.slot);
    // Still unanswered, the slow request holds its slot: Discord may be counting it right now.
    expect((await rl.reserveSlot('d')).waitMs).toBeGreaterThan(0);
    await rl.settle('a', slow.slot);
    await waitFor(async () => (await rl.reserveSlot('d')).waitMs === 0, { what: 'a slot one window after the answer' });
  });

  it('a released slot is free at once', async () => {
    const rl = limiter(undefined, { defaultChannel: { limit: 1, windowMs: 5000 } });
    const first = await rl.reserveSlot('chan');
    expect((await rl.reserveSlot('chan')).waitMs).toBeGreaterThan(0);
    await rl.release('chan', first.slot);
    expect((await rl.reserveSlot('chan')).waitMs).toBe(0);
  });
});

describe('SharedRateLimiter without limits', () => {
  it('keeps no window at all, however many requests', async () => {
    const prefix = `test-rl-${randomUUID()}`;
    const rl = limiter(prefix, { global: { limit: 1000, windowMs: 1000 }, defaultChannel: null });
    for (let i = 0; i < 20; i++) {
      const { slot } = await rl.reserveSlot('chan');
      await rl.settle('chan', slot);
    }
    // The global window logs them; the channel, which has no limit, logs nothing.
    expect(await redis.zcard(`${prefix}:rl:global`)).toBe(20);
    expect(await redis.exists(`${prefix}:rl:log:chan`, `${prefix}:rl:flying:chan`)).toBe(0);
  });
});
