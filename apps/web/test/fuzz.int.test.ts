/**
 * Property test over the JSON API, the public forms and the admin API and
 * console forms: for random bodies (random Unicode, control characters, NUL,
 * unpaired surrogates, huge strings, deep nesting, wrong types, unknown
 * fields) and random query strings, no route answers 5xx, and a refused
 * request writes nothing (every table's row count, the outbox and the
 * settings version are unchanged).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

let web: TestWeb;
let session: { cookie: string; csrf: string };
const ids = { machine: 0, report: 0, partRequest: 0 };

const TABLES = [
  'machines',
  'problem_reports',
  'log_entries',
  'part_requests',
  'part_request_updates',
  'photos',
  'outbox_events',
  'settings_audit',
  'webhook_endpoints',
  'webhook_event_subscriptions',
];

async function snapshot(): Promise<string> {
  const counts = TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ');
  const { rows } = await web.db.pool.query(`SELECT ${counts}, (SELECT version FROM settings WHERE id = 1) AS settings_version`);
  return JSON.stringify(rows[0]);
}

beforeAll(async () => {
  web = await startTestWeb({ config: { authFailureLimit: { perClient: 10_000, total: 10_000, windowSeconds: 60 } } });
  const post = async (path: string, body: unknown) =>
    (await (await fetch(web.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { id: number };
  ids.machine = (await post('/api/machines', { name: 'Fuzz Machine' })).id;
  ids.report = (await post('/api/problem-reports', { machineId: ids.machine, description: 'seed' })).id;
  ids.partRequest = (await post('/api/part-requests', { text: 'seed', machineId: ids.machine })).id;
  session = await login(web.url);
});
afterAll(async () => {
  await web?.close();
});

/** Strings a careless or hostile client sends: mostly short text, often with control characters in it. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\r', '\n', '\t', 'a', 'b', ' ', '@', '%', '|', '\ud800', '\udfff'), minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '   ', 'nul\u0000byte', 'x'.repeat(25_000), '@everyone', 'https://img.example.org/100%.jpg', 'https://x.org/a|b^`[1]', 'javascript:alert(1)', '2147483648'),
  },
);
/** Anything JSON can carry, with texts from above among it. */
const anyValue = fc.oneof(
  text,
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2_147_483_648, 1e300, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(text, { maxLength: 12 }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** A field value that is mostly what the route expects (so requests get past the first check), sometimes anything. */
const fieldValue = (plausible: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: anyValue });

function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const known = fc.record(
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fc.option(fieldValue(v), { freq: 5, nil: undefined })])),
  ) as fc.Arbitrary<Record<string, unknown>>;
  const present = known.map((k) => Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined)));
  // Now and then unknown fields too (strict schemas refuse them).
  return fc.tuple(present, fc.option(fc.dictionary(text, anyValue, { minKeys: 1, maxKeys: 2 }), { freq: 6, nil: null })).map(([k, extra]) => ({ ...extra, ...k }));
}

const id = () => fc.constantFrom(ids.machine, ids.report, ids.partRequest, 999_999);
const urls = fc.array(fc.oneof(text, fc.constantFrom('https://img.example.org/p.jpg')), { maxLength: 12 });

interface Route {
  method: string;
  /** The path, given a random segment for routes that take an id in it. */
  path: (id: string) => string;
  body: fc.Arbitrary<Record<string, unknown>>;
  kind: 'json' | 'form' | 'admin-json' | 'console-form';
}

const routes = (): Route[] => [
  { kind: 'json', method: 'POST', path: () => '/api/machines', body: bodyOf({ name: text, shortName: text, location: text }) },
  {
    kind: 'json',
    method: 'POST',
    path: () => '/api/problem-reports',
    body: bodyOf({ machineId: id(), description: text, problemType: fc.constantFrom('stuck_ball', 'other', 'x'), priority: fc.constantFrom('major', 'y'), reporterName: text, reporterContact: text, photoUrls: urls }),
  },
  { kind: 'json', method: 'PATCH', path: () => `/api/problem-reports/${ids.report}`, body: bodyOf({ status: fc.constantFrom('open', 'closed'), actorName: text }) },
  {
    kind: 'json',
    method: 'POST',
    path: () => '/api/log-entries',
    body: bodyOf({ machineId: id(), text, problemReportId: id(), maintainerNames: fc.array(text, { maxLength: 25 }), photoUrls: urls }),
  },
  { kind: 'json', method: 'POST', path: () => '/api/part-requests', body: bodyOf({ text, machineId: id(), requestedByName: text, photoUrls: urls }) },
  {
    kind: 'json',
    method: 'POST',
    path: () => `/api/part-requests/${ids.partRequest}/updates`,
    body: bodyOf({ text, newStatus: fc.constantFrom('ordered', 'received', 'z'), postedByName: text, photoUrls: urls }),
  },
  { kind: 'form', method: 'POST', path: () => '/problem-reports', body: bodyOf({ machineId: id().map(String), description: text, reporterName: text, reporterContact: text, photoUrls: text }) },
  { kind: 'form', method: 'POST', path: () => '/log-entries', body: bodyOf({ machineId: id().map(String), text, maintainerNames: text, photoUrls: text }) },
  { kind: 'form', method: 'POST', path: () => '/part-requests', body: bodyOf({ text, machineId: id().map(String), requestedByName: text, photoUrls: text }) },
  { kind: 'form', method: 'POST', path: () => `/problem-reports/${ids.report}/status`, body: bodyOf({ status: fc.constantFrom('open', 'closed'), actorName: text }) },
  { kind: 'form', method: 'POST', path: () => `/part-requests/${ids.partRequest}/updates`, body: bodyOf({ text, newStatus: fc.constantFrom('ordered', ''), postedByName: text }) },
  {
    kind: 'admin-json',
    method: 'PATCH',
    path: () => '/api/admin/settings',
    body: bodyOf({
      deliveryMode: fc.constantFrom('bot', 'both', 'webhooks'),
      channelId: fc.constantFrom('1100000000000000001', '1'),
      events: fc.dictionary(fc.constantFrom('problem_report_created', 'log_entry_created', 'nope'), fc.record({ enabled: fc.boolean(), channelId: text }, { requiredKeys: [] })),
      threadsEnabled: fc.boolean(),
    }),
  },
  {
    kind: 'admin-json',
    method: 'POST',
    path: () => '/api/admin/webhook-endpoints',
    body: bodyOf({ name: text, url: fc.constantFrom('https://discord.com/api/webhooks/12345678901234567/abc'), events: fc.array(fc.constantFrom('log_entry_created', 'x'), { maxLength: 3 }), enabled: fc.boolean() }),
  },
  { kind: 'console-form', method: 'POST', path: () => '/admin/settings', body: bodyOf({ deliveryMode: fc.constantFrom('bot', 'both'), channelId: text, reactions: text }) },
  { kind: 'console-form', method: 'POST', path: () => '/admin/webhooks', body: bodyOf({ name: text, url: text, events: text }) },
  // Ids in the path: random text, numbers and UUIDs that name nothing.
  ...(['PATCH', 'DELETE'] as const).map(
    (method): Route => ({ kind: 'admin-json', method, path: (id) => `/api/admin/webhook-endpoints/${id}`, body: bodyOf({ name: text, enabled: fc.boolean() }) }),
  ),
  { kind: 'admin-json', method: 'POST', path: (id) => `/api/admin/deliveries/${id}/redeliver`, body: bodyOf({}) },
  { kind: 'console-form', method: 'POST', path: (id) => `/admin/webhooks/${id}`, body: bodyOf({ name: text, url: text }) },
  { kind: 'console-form', method: 'POST', path: (id) => `/admin/deliveries/${id}/redeliver`, body: bodyOf({ force: fc.constantFrom('true', 'yes') }) },
];

/** Path segments that name no record. */
const PATH_IDS = ['1', '0', '-1', '2147483648', 'abc', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-fffffffffffff', '%00', '%E0%A4%A', '..%2F..', 'a%20b'];

function formBody(body: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, typeof item === 'string' ? item : JSON.stringify(item) ?? '');
  }
  return params.toString();
}

async function send(route: Route, path: string, body: Record<string, unknown>, query: string): Promise<Response> {
  const json = route.kind === 'json' || route.kind === 'admin-json';
  const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' };
  if (route.kind === 'admin-json') headers.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
  if (route.kind === 'console-form') headers.cookie = session.cookie;
  const payload = route.kind === 'console-form' ? { ...body, _csrf: session.csrf } : body;
  return fetch(`${web.url}${path}${query}`, {
    method: route.method,
    headers,
    body: json ? JSON.stringify(payload) : formBody(payload),
    redirect: 'manual',
  });
}

describe('random input', () => {
  it('never answers 5xx, and a refused request writes nothing', async () => {
    const all = routes();
    const query = fc.oneof(fc.constant(''), fc.dictionary(text, text, { maxKeys: 2 }).map((q) => `?${new URLSearchParams(q).toString()}`));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: all.length - 1 }).chain((i) => fc.tuple(fc.constant(all[i]!), all[i]!.body, query, fc.constantFrom(...PATH_IDS))),
        async ([route, body, q, id]) => {
          const before = await snapshot();
          const path = route.path(id);
          const res = await send(route, path, body, q);
          await res.arrayBuffer();
          const what = `${route.method} ${path}${q} ${JSON.stringify(body).slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) expect(await snapshot(), what).toBe(before);
        },
      ),
      { numRuns: 600 },
    );
  }, 180_000);

  it('GET routes with random ids and query strings never answer 5xx', async () => {
    const paths = ['/api/machines', '/api/problem-reports', '/api/log-entries', '/api/part-requests', '/api/part-request-updates', '/problem-reports', '/machines', '/log-entries', '/part-requests'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.constant(''), text.map((t) => `/${encodeURIComponent(t.replace(/[\uD800-\uDFFF]/gu, 'x'))}`), fc.constantFrom('/%00', '/%E0%A4%A', '/2147483648', '/-1', '/1e3')),
        fc.dictionary(fc.constantFrom('limit', 'beforeId', 'status', 'q', 'page'), text, { maxKeys: 3 }),
        async (path, suffix, q) => {
          const url = `${web.url}${path}${suffix}?${new URLSearchParams(q).toString()}`;
          const res = await fetch(url, { redirect: 'manual' });
          await res.arrayBuffer();
          expect(res.status, url).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);

  it('admin reads (API and console) with random query strings never answer 5xx', async () => {
    const paths = ['/api/admin/events', '/api/admin/settings/audit', '/api/admin/rollout', '/api/admin/webhook-endpoints', '/admin', '/admin/deliveries', '/admin/settings', '/admin/webhooks', '/admin/health', '/admin/login'];
    const value = fc.oneof(text, fc.constantFrom('bot', 'webhook', 'failed', 'delivered', 'log_entry_created', '0', '501', '2026-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999+14:00', '//evil.example', '/admin//x'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.dictionary(fc.constantFrom('type', 'status', 'target', 'limit', 'since', 'next'), value, { maxKeys: 4 }), async (path, q) => {
        const url = `${web.url}${path}?${new URLSearchParams(q).toString()}`;
        const headers = path.startsWith('/api/') ? { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } : { cookie: session.cookie };
        const res = await fetch(url, { headers, redirect: 'manual' });
        await res.arrayBuffer();
        expect(res.status, url).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('bodies that are not what they claim: bad encodings 400/415, deep nesting and huge bodies 400/413', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${web.url}/api/machines`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    const before = await snapshot();
    expect(await post({ 'content-encoding': 'gzip' }, 'not gzip at all')).toBe(400);
    expect(await post({ 'content-encoding': 'br' }, 'not brotli at all')).toBe(400);
    expect(await post({ 'content-encoding': 'deflate' }, 'not deflate')).toBe(400);
    expect(await post({ 'content-encoding': 'zstd' }, '{}')).toBe(415);
    expect(await post({ 'content-type': 'application/json; charset=klingon' }, '{}')).toBe(415);
    expect(await post({}, `${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toBe(400);
    expect(await post({}, JSON.stringify({ name: 'x'.repeat(1_100_000) }))).toBe(413);
    expect(await post({}, '{"name": "nul\\u0000byte"}')).toBe(400);
    expect(await post({}, '{"name": "\\ud800"}')).toBe(400);
    expect(await snapshot()).toBe(before);
  });
});
