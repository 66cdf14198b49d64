import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, startTestWeb, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';

let web: TestWeb;

beforeAll(async () => {
  web = await startTestWeb({ config: { authFailureLimit: { perClient: 50, total: 500, windowSeconds: 60 } } });
});
afterAll(async () => {
  await web?.close();
});

const ADMIN_PAGES = ['/admin', '/admin/settings', '/admin/deliveries', '/admin/queues', '/admin/health', '/admin/webhooks'];

describe('admin console auth', () => {
  it('sends the unauthenticated to the login page and refuses their posts and JSON calls', async () => {
    for (const path of ADMIN_PAGES) {
      const res = await fetch(web.url + path, { redirect: 'manual' });
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
    }
    for (const path of ['/admin/settings', '/admin/settings/test', '/admin/deliveries/redeliver-failed', '/admin/logout']) {
      const res = await call(web.url, 'POST', path, 'x=1', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status, path).toBe(401);
    }
    const board = await call(web.url, 'GET', '/admin/queues/api/queues');
    expect(board.status).toBe(401);
    const boardPut = await call(web.url, 'PUT', '/admin/queues/api/queues/bot-deliveries/pause', {});
    expect(boardPut.status).toBe(401);
  });

  it('logs in with the token, sets a hardened cookie and shows the console', async () => {
    const form = await fetch(`${web.url}/admin/login`);
    expect(form.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(form.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const { cookie, csrf } = await login(web.url);
    expect(csrf).toMatch(/^[\w-]{40,}$/);
    const page = await fetch(`${web.url}/admin`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Delivery mode');
    const res = await fetch(`${web.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '' },
      body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '', token: TEST_ADMIN_TOKEN }),
      redirect: 'manual',
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    // The session lives in Redis under the app's prefix with a 12 h TTL.
    const sid = /flipfix_admin=([^;]+)/.exec(setCookie)?.[1] ?? '';
    const ttl = await web.redis.ttl(`${web.prefix}:web:session:${sid}`);
    expect(ttl).toBeGreaterThan(11 * 3600);
  });

  it('refuses a form posted without its CSRF token (403) and accepts it with the token', async () => {
    const { cookie, csrf } = await login(web.url);
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    const without = await call(web.url, 'POST', '/admin/settings', 'deliveryMode=both', form);
    expect(without.status).toBe(403);
    const wrong = await call(web.url, 'POST', '/admin/settings', `_csrf=nope&deliveryMode=both`, form);
    expect(wrong.status).toBe(403);
    expect((await call(web.url, 'GET', '/api/admin/settings', undefined, { cookie })).body.deliveryMode).toBe('bot');
    const ok = await call(web.url, 'POST', '/admin/settings', `_csrf=${csrf}&deliveryMode=both&events.log_entry_created.present=1`, form);
    expect(ok.status).toBe(303);
    const settings = await call(web.url, 'GET', '/api/admin/settings', undefined, { cookie });
    expect(settings.body.deliveryMode).toBe('both');
    expect(settings.body.events.log_entry_created.enabled).toBe(false);
    // The session also works for the JSON API, with the CSRF header for changes.
    const noHeader = await call(web.url, 'PATCH', '/api/admin/settings', { deliveryMode: 'bot' }, { cookie });
    expect(noHeader.status).toBe(403);
    const withHeader = await call(web.url, 'PATCH', '/api/admin/settings', { deliveryMode: 'bot', events: { log_entry_created: { enabled: true } } }, { cookie, 'x-csrf-token': csrf });
    expect(withHeader.status).toBe(200);
    const page = await (await fetch(`${web.url}/admin/settings`, { headers: { cookie } })).text();
    expect(page).toContain('events.log_entry_created.enabled');
    expect(page).toMatch(/console<\/td><td title="deliveryMode">Delivery mode<\/td><td>bot → both/);
  });

  it('refuses cross-origin job-dashboard mutations', async () => {
    const { cookie } = await login(web.url);
    const cross = await call(web.url, 'PUT', '/admin/queues/api/queues/bot-deliveries/pause', {}, { cookie, origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    const list = await call(web.url, 'GET', '/admin/queues/api/queues', undefined, { cookie });
    expect(list.status).toBe(200);
    const names = (list.body.queues as { name: string }[]).map((q) => q.name).sort();
    // The digest flush queue (bot-features) is on the dashboard beside the shared ones.
    expect(names).toEqual(['bot-deliveries', 'digests', 'webhook-deliveries']);
  });

  it('logs out (the session is gone)', async () => {
    const { cookie, csrf } = await login(web.url);
    const out = await call(web.url, 'POST', '/admin/logout', `_csrf=${csrf}`, { 'content-type': 'application/x-www-form-urlencoded', cookie });
    expect(out.status).toBe(303);
    const after = await fetch(`${web.url}/admin`, { headers: { cookie }, redirect: 'manual' });
    expect(after.status).toBe(303);
  });
});

describe('settings and webhook forms', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('without a channel list keeps a bad channel id as typed and reports every bad field at once', async () => {
    const { cookie, csrf } = await login(web.url);
    const before = (await call(web.url, 'GET', '/api/admin/settings', undefined, { cookie })).body;
    const body = new URLSearchParams({
      _csrf: csrf,
      deliveryMode: 'webhooks',
      channelId: '12345',
      'events.problem_report_created.present': '1',
      'events.problem_report_created.enabled': 'on',
      'events.problem_report_created.channelId': 'general',
      'reactions.problem_report_created': '👀 ✅ 🔧 🎉',
      'digest.quietSeconds': 'soon',
    });
    const refused = await call(web.url, 'POST', '/admin/settings', body.toString(), { ...form, cookie });
    expect(refused.status).toBe(400);
    const page = refused.body as string;
    expect(page).toContain('name="channelId" value="12345"');
    expect(page).toContain('<p class="field-error" id="channelId-error">Must be a Discord id: 17 to 20 digits.</p>');
    expect(page).toContain('id="events-problem_report_created-channelId-error">Must be a Discord id: 17 to 20 digits.');
    expect(page).toContain('value="general"');
    expect(page).toContain('id="reactions-problem_report_created-error">At most 3 reactions.');
    expect(page).toContain('id="quiet-error">Must be a whole number of seconds.');
    expect(page).toMatch(/value="webhooks" checked/);
    expect(page).not.toMatch(/events\.problem_report_created\.channelId:/);
    expect((await call(web.url, 'GET', '/api/admin/settings', undefined, { cookie })).body).toEqual(before);
  });

  it('says a webhook id must be 17 to 20 digits', async () => {
    const { cookie, csrf } = await login(web.url);
    const body = new URLSearchParams({ _csrf: csrf, name: 'Front desk', url: 'https://discord.com/api/webhooks/123/abc', events: 'log_entry_created', enabled: 'on' });
    const refused = await call(web.url, 'POST', '/admin/webhooks', body.toString(), { ...form, cookie });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain(
      'id="url-error">Must be a Discord webhook URL: https://discord.com/api/webhooks/&lt;id&gt;/&lt;token&gt;, where the id is 17 to 20 digits (this one has 3 digits).',
    );
    expect(refused.body).toContain('value="Front desk"');
  });
});

describe('public pages', () => {
  it('escapes user text and works through plain form posts', async () => {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Medieval <Madness>' })).body;
    const created = await call(
      web.url,
      'POST',
      '/problem-reports',
      new URLSearchParams({ machineId: String(machine.id), description: '<script>alert(1)</script> & "quotes"', photoUrls: 'https://example.com/p.jpg' }).toString(),
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(created.status).toBe(303);
    const path = created.headers.get('location') ?? '';
    expect(path).toMatch(/^\/problem-reports\/\d+\?saved=1$/);
    const page = await (await fetch(web.url + path)).text();
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain('Medieval &lt;Madness&gt;');
    expect(page).toContain('<img src="https://example.com/p.jpg"');
    expect(page).toContain('Problem report saved.');

    const bad = await call(web.url, 'POST', '/log-entries', `machineId=${machine.id}&text=`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<p class="field-error" id="le-text-error">Please fill this in.</p>');

    for (const p of ['/', '/machines', `/machines/${machine.id}`, '/problem-reports', '/log-entries', '/part-requests']) {
      expect((await fetch(web.url + p)).status, p).toBe(200);
    }
    const missing = await fetch(`${web.url}/part-request-updates/424242`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Part request update 424242 not found');
  });
});

describe('metrics', () => {
  it('exposes events, ledger counts, queue depths and the latency histogram', async () => {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Metrics Machine' })).body;
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId: machine.id, description: 'm' })).body;
    const event = await web.db.prisma.outboxEvent.findFirstOrThrow({ where: { entityType: 'problem_report', entityId: report.id } });
    await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'bot', targetKey: '1', status: 'delivered', deliveredAt: new Date(event.createdAt.getTime() + 300) },
    });
    const text = await (await fetch(`${web.url}/metrics`)).text();
    expect(text).toMatch(/flipfix_events\{type="problem_report_created"\} [1-9]/);
    expect(text).toMatch(/flipfix_deliveries\{target="bot",status="delivered"\} 1/);
    expect(text).toMatch(/flipfix_queue_jobs\{queue="bot-deliveries",state="waiting"\} 0/);
    expect(text).toContain('flipfix_event_to_post_seconds_bucket{target="bot",le="0.25"} 0');
    expect(text).toContain('flipfix_event_to_post_seconds_bucket{target="bot",le="0.5"} 1');
    expect(text).toContain('flipfix_event_to_post_seconds_count{target="bot"} 1');
    expect(text).toMatch(/flipfix_deliveries_rate_limited\{target="bot"\} 0/);
  });
});
