/**
 * Wrong admin tokens are limited per client and in total (Bearer API and the
 * log-in form together); the right token is never refused and never counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

const LIMIT = { perClient: 5, total: 12, windowSeconds: 60 };
let direct: TestWeb;
let proxied: TestWeb;

beforeAll(async () => {
  [direct, proxied] = await Promise.all([
    startTestWeb({ config: { authFailureLimit: LIMIT } }),
    // What TRUST_PROXY=true means: one proxy in front, which appends the client's address.
    startTestWeb({ config: { authFailureLimit: LIMIT, trustProxy: 1 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([direct?.close(), proxied?.close()]);
});

const settings = (web: TestWeb, token: string, headers: Record<string, string> = {}) =>
  call(web.url, 'GET', '/api/admin/settings', undefined, { authorization: `Bearer ${token}`, ...headers });

async function loginForm(web: TestWeb, token: string): Promise<number> {
  const form = await fetch(`${web.url}/admin/login`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${web.url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: csrf, token }),
    redirect: 'manual',
  });
  return res.status;
}

describe('wrong admin tokens', () => {
  it('are answered 401, then 429 with Retry-After past the per-client budget; the right token still works', async () => {
    // Successful log-ins and Bearer calls are never counted.
    for (let i = 0; i < LIMIT.perClient + 3; i++) {
      expect(await loginForm(direct, TEST_ADMIN_TOKEN)).toBe(303);
      expect((await settings(direct, TEST_ADMIN_TOKEN)).status).toBe(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT.perClient; i++) statuses.push((await settings(direct, `wrong-token-${i}`)).status);
    expect(statuses).toEqual(Array(LIMIT.perClient).fill(401));
    const limited = await settings(direct, 'wrong-token-again');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'too_many_requests' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The log-in form shares the budget.
    expect(await loginForm(direct, 'wrong-token-form')).toBe(429);
    // Not locked out: the right token is checked first.
    expect((await settings(direct, TEST_ADMIN_TOKEN)).status).toBe(200);
    expect(await loginForm(direct, TEST_ADMIN_TOKEN)).toBe(303);
  });

  it('ignore X-Forwarded-For without a trusted proxy (one client, however it names itself)', async () => {
    const fresh = await startTestWeb({ config: { authFailureLimit: LIMIT } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT.perClient + 2; i++) statuses.push((await settings(fresh, 'wrong', { 'x-forwarded-for': `203.0.113.${i}` })).status);
      expect(statuses.slice(LIMIT.perClient)).toEqual([429, 429]);
    } finally {
      await fresh.close();
    }
  });

  it('are limited in total behind a proxy, so rotating addresses does not help', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT.total + 5; i++) statuses.push((await settings(proxied, 'wrong', { 'x-forwarded-for': `198.51.100.${i}` })).status);
    // Each address is new, so only the total budget can stop them.
    expect(statuses.slice(0, LIMIT.total)).toEqual(Array(LIMIT.total).fill(401));
    expect(statuses.slice(LIMIT.total)).toEqual(Array(5).fill(429));
    expect((await settings(proxied, TEST_ADMIN_TOKEN, { 'x-forwarded-for': '198.51.100.250' })).status).toBe(200);
  });

  it('a request without credentials is not a guess: 401, never counted', async () => {
    const fresh = await startTestWeb({ config: { authFailureLimit: LIMIT } });
    try {
      for (let i = 0; i < LIMIT.perClient + 2; i++) expect((await call(fresh.url, 'GET', '/api/admin/settings')).status).toBe(401);
      expect((await settings(fresh, 'wrong')).status).toBe(401);
    } finally {
      await fresh.close();
    }
  });

  it("bull-board mutations need the session's CSRF header (compared in constant time) or the same origin", async () => {
    const { cookie, csrf } = await login(direct.url);
    const pause = (headers: Record<string, string>) => call(direct.url, 'PUT', '/admin/queues/api/queues/digests/pause', {}, { cookie, origin: 'https://evil.example', ...headers });
    expect((await pause({})).status).toBe(403);
    expect((await pause({ 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` })).status).toBe(403);
    expect((await pause({ 'x-csrf-token': csrf })).status).toBeLessThan(300);
  });
});
