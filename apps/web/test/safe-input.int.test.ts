/**
 * The inputs issue 12 tried, each with what it answers now: a NUL byte in
 * any text field is a 400 naming the field (it was a 500 from Postgres),
 * and photo URLs are stored as URLs Discord accepts (RFC 3986).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

let web: TestWeb;
let machineId: number;
let reportId: number;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(web.url, method, path, body, headers);

beforeAll(async () => {
  web = await startTestWeb({ config: { allowDevelopmentWebhookUrls: true } });
  machineId = (await api('POST', '/api/machines', { name: 'Addams Family' })).body.id;
  reportId = (await api('POST', '/api/problem-reports', { machineId, description: 'Thing flips slowly' })).body.id;
});
afterAll(async () => {
  await web?.close();
});

describe('a NUL byte answers 400 naming the field, wherever it is', () => {
  const NUL = 'nul\u0000byte';
  const cases: [string, string, () => string, Record<string, unknown>, string][] = [
    ['problem report description', 'POST', () => '/api/problem-reports', { machineId: 1, description: NUL }, 'description'],
    ['reporter name', 'POST', () => '/api/problem-reports', { machineId: 1, description: 'x', reporterName: NUL }, 'reporterName'],
    ['reporter contact', 'POST', () => '/api/problem-reports', { machineId: 1, description: 'x', reporterContact: NUL }, 'reporterContact'],
    ['log entry text', 'POST', () => '/api/log-entries', { machineId: 1, text: NUL }, 'text'],
    ['maintainer name', 'POST', () => '/api/log-entries', { machineId: 1, text: 'x', maintainerNames: ['ok', NUL] }, 'maintainerNames.1'],
    ['machine name', 'POST', () => '/api/machines', { name: NUL }, 'name'],
    ['actorName', 'PATCH', () => `/api/problem-reports/${reportId}`, { status: 'closed', actorName: NUL }, 'actorName'],
    ['part request text', 'POST', () => '/api/part-requests', { text: NUL }, 'text'],
    ['update poster', 'POST', () => '/api/part-requests/1/updates', { text: 'x', postedByName: NUL }, 'postedByName'],
  ];
  for (const [what, method, path, body, field] of cases) {
    it(what, async () => {
      const res = await api(method, path(), body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', fields: { [field]: 'must not contain control characters or invalid Unicode' } });
    });
  }

  it('webhook endpoint name (admin API)', async () => {
    const res = await api('POST', '/api/admin/webhook-endpoints', { name: NUL, url: 'https://discord.com/api/webhooks/12345678901234567/abc', events: ['log_entry_created'] }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual({ name: 'must not contain control characters or invalid Unicode' });
  });

  it('the public form answers a page, not a 500', async () => {
    const res = await fetch(`${web.url}/problem-reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ machineId: String(machineId), description: NUL }).toString(),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/html/);
    expect(await res.text()).toContain('must not contain control characters');
  });
});

describe('photo URLs', () => {
  it('are stored RFC 3986-valid: what Discord would refuse is percent-encoded', async () => {
    const res = await api('POST', '/api/problem-reports', {
      machineId,
      description: 'Photos',
      photoUrls: ['https://img.example.org/100%.jpg', 'https://img.example.org/a|b^c`d[1].jpg', 'https://img.example.org/ok.jpg'],
    });
    expect(res.status).toBe(201);
    expect(res.body.photoUrls).toEqual(['https://img.example.org/100%25.jpg', 'https://img.example.org/a%7Cb%5Ec%60d%5B1%5D.jpg', 'https://img.example.org/ok.jpg']);
  });

  it('that cannot be made valid answer 400 naming the entry', async () => {
    for (const url of ['javascript:alert(1)', 'https://user:pw@img.example.org/x.jpg', 'not a url', `https://img.example.org/${'|'.repeat(700)}`]) {
      const res = await api('POST', '/api/problem-reports', { machineId, description: 'Photos', photoUrls: ['https://img.example.org/ok.jpg', url] });
      expect(res.status, url).toBe(400);
      expect(Object.keys(res.body.fields), url).toEqual(['photoUrls.1']);
    }
  });
});
