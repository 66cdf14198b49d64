/**
 * The console's webhook endpoints page and the deliveries page's rollout
 * summary, through plain form posts like a browser without JavaScript.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordRest } from '@flipfix/discord';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { call, login, startTestWeb, type TestWeb } from './helpers';

let web: TestWeb;
let sim: Simulator;
let session: { cookie: string; csrf: string };

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  // As in production: only discord.com webhook URLs are accepted.
  web = await startTestWeb({
    discordRest: createDiscordRest({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 3000 }),
    discordToken: sim.token,
    config: { allowDevelopmentWebhookUrls: false },
  });
  session = await login(web.url);
}, 60_000);
afterAll(async () => {
  await web?.close();
  await sim?.close();
});

/** A Discord-style webhook URL with a fresh id and token. */
function discordUrl(): { url: string; id: string; token: string } {
  const id = `1${String(Date.now()).padStart(13, '0')}${Math.floor(Math.random() * 1e4)
    .toString()
    .padStart(4, '0')}`;
  const token = `tok-${randomBytes(24).toString('base64url')}`;
  return { id, token, url: `https://discord.com/api/webhooks/${id}/${token}` };
}

/** Posts a console form with the session (and its CSRF token unless `csrf: false`). */
async function post(path: string, fields: [string, string][], options: { csrf?: boolean; cookie?: string } = {}) {
  const body = new URLSearchParams(fields);
  if (options.csrf !== false) body.append('_csrf', session.csrf);
  const res = await fetch(web.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: options.cookie ?? session.cookie },
    body,
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(web.url + path, { headers: { cookie: session.cookie }, redirect: 'manual' });
  return { status: res.status, text: await res.text() };
}

/** The article of one endpoint on the list page. */
function cardOf(page: string, id: string): string {
  const start = page.indexOf(`data-endpoint="${id}"`);
  expect(start, `card of ${id}`).toBeGreaterThan(-1);
  return page.slice(start, page.indexOf('</article>', start));
}

async function endpointIdByName(name: string): Promise<string> {
  return (await web.db.prisma.webhookEndpoint.findFirstOrThrow({ where: { name } })).id;
}

describe('/admin/webhooks', () => {
  it('adds an endpoint through the form and lists it with its URL masked, never its token', async () => {
    const hook = discordUrl();
    const created = await post('/admin/webhooks', [
      ['name', 'Workshop channel'],
      ['url', hook.url],
      ['events', 'problem_report_created'],
      ['events', 'part_request_created'],
      ['enabled', 'on'],
    ]);
    expect(created.status).toBe(303);
    expect(created.location).toBe('/admin/webhooks');
    const id = await endpointIdByName('Workshop channel');

    const list = await get('/admin/webhooks');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Endpoint “Workshop channel” added');
    const card = cardOf(list.text, id);
    expect(card).toContain(`https://discord.com/api/webhooks/${hook.id}/***`);
    expect(card).toContain('Problem report created, Part request created');
    expect(card).toContain('>enabled<');
    // The stored row has the real URL; no page shows its token.
    expect((await web.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })).url).toBe(hook.url);
    for (const path of ['/admin/webhooks', `/admin/webhooks/${id}/edit`, `/admin/webhooks/${id}/delete`, '/admin/deliveries', '/admin/settings', '/admin']) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.text, path).not.toContain(hook.token);
    }
  });

  it('refuses forms without the CSRF token (403) and without a session (401)', async () => {
    const hook = discordUrl();
    const fields: [string, string][] = [
      ['name', 'Forged'],
      ['url', hook.url],
      ['events', 'log_entry_created'],
    ];
    expect((await post('/admin/webhooks', fields, { csrf: false })).status).toBe(403);
    const wrong = await post('/admin/webhooks', [...fields, ['_csrf', 'not-the-token']], { csrf: false });
    expect(wrong.status).toBe(403);
    expect((await post('/admin/webhooks', fields, { cookie: '' })).status).toBe(401);
    expect(await web.db.prisma.webhookEndpoint.count({ where: { name: 'Forged' } })).toBe(0);

    const id = await endpointIdByName('Workshop channel');
    for (const action of ['delete', 'disable', 'test', '']) {
      const path = `/admin/webhooks/${id}${action === '' ? '' : `/${action}`}`;
      expect((await post(path, [['confirm', 'yes']], { csrf: false })).status, path).toBe(403);
    }
    expect((await web.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })).enabled).toBe(true);
  });

  it('re-renders the form with field messages for bad input, without echoing the URL', async () => {
    const notWebhook = await post('/admin/webhooks', [
      ['name', 'Bad URL'],
      ['url', 'https://example.com/hooks?secret=hunter2-hunter2'],
      ['events', 'log_entry_created'],
    ]);
    expect(notWebhook.status).toBe(400);
    expect(notWebhook.text).toContain('<p class="field-error" id="url-error">Must be a Discord webhook URL');
    expect(notWebhook.text).toContain('value="Bad URL"');
    expect(notWebhook.text).not.toContain('hunter2');

    // A webhook path on another host is the simulator's kind: refused outside development.
    const foreign = discordUrl();
    const elsewhere = await post('/admin/webhooks', [
      ['name', 'Elsewhere'],
      ['url', foreign.url.replace('https://discord.com', 'http://127.0.0.1:4100')],
      ['events', 'log_entry_created'],
    ]);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.text).toContain('Must be a https://discord.com/api/webhooks/&lt;id&gt;/&lt;token&gt; URL.');
    expect(elsewhere.text).not.toContain(foreign.token);
    // The JSON API follows the same rule.
    const api = await call(
      web.url,
      'POST',
      '/api/admin/webhook-endpoints',
      { name: 'Elsewhere', url: foreign.url.replace('https://discord.com', 'http://127.0.0.1:4100'), events: [] },
      { cookie: session.cookie, 'x-csrf-token': session.csrf },
    );
    expect(api.status).toBe(400);
    expect(api.body.fields.url).toMatch(/discord\.com/);

    const hook = discordUrl();
    const noName = await post('/admin/webhooks', [
      ['name', '   '],
      ['url', hook.url],
      ['events', 'nonsense_event'],
    ]);
    expect(noName.status).toBe(400);
    expect(noName.text).toContain('<p class="field-error" id="name-error">Please fill this in.</p>');
    expect(noName.text).toContain('id="events-error"');
    // The URL was fine: its masked form is the placeholder, and the admin is asked to paste it again.
    expect(noName.text).toContain(`placeholder="https://discord.com/api/webhooks/${hook.id}/***"`);
    expect(noName.text).toContain('Paste the URL again');
    expect(noName.text).not.toContain(hook.token);

    // The same webhook twice would post every event twice.
    const existing = await web.db.prisma.webhookEndpoint.findFirstOrThrow({ where: { name: 'Workshop channel' } });
    const token = existing.url.split('/').pop() ?? '';
    const twice = await post('/admin/webhooks', [
      ['name', 'Duplicate'],
      ['url', existing.url],
      ['events', 'log_entry_created'],
    ]);
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('Another endpoint already uses this webhook');
    expect(twice.text).not.toContain(token);
    expect(await web.db.prisma.webhookEndpoint.count({ where: { name: { in: ['Bad URL', 'Elsewhere', 'Duplicate'] } } })).toBe(0);
  });

  it('edits an endpoint keeping its URL, disables and enables it, and shows why Discord disabled one', async () => {
    const id = await endpointIdByName('Workshop channel');
    const before = await web.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    const edited = await post(`/admin/webhooks/${id}`, [
      ['name', 'Workshop'],
      ['url', ''],
      ['events', 'log_entry_created'],
      ['enabled', 'on'],
    ]);
    expect(edited.status).toBe(303);
    const after = await web.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id }, include: { subscriptions: true } });
    expect(after.name).toBe('Workshop');
    expect(after.url).toBe(before.url);
    expect(after.subscriptions.filter((s) => s.enabled).map((s) => s.eventType)).toEqual(['log_entry_created']);

    expect((await post(`/admin/webhooks/${id}/disable`, [])).status).toBe(303);
    let card = cardOf((await get('/admin/webhooks')).text, id);
    expect(card).toContain('>disabled<');
    expect(card).toContain('Disabled by an admin');
    expect(card).toContain(`action="/admin/webhooks/${id}/enable"`);
    expect((await post(`/admin/webhooks/${id}/enable`, [])).status).toBe(303);
    expect((await web.db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } })).enabled).toBe(true);

    await web.db.prisma.webhookEndpoint.update({
      where: { id },
      data: { enabled: false, disabledReason: 'unknown webhook 123456789012345678 (10015): it was deleted', disabledAt: new Date() },
    });
    card = cardOf((await get('/admin/webhooks')).text, id);
    expect(card).toContain('Discord disabled this endpoint: unknown webhook 123456789012345678 (10015): it was deleted');
    await post(`/admin/webhooks/${id}/enable`, []);
  });

  it('sends a test message through an endpoint and disables one whose webhook is gone', async () => {
    const dev = await startTestWeb({
      database: { url: web.dbUrl, db: web.db },
      discordRest: createDiscordRest({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 3000 }),
      config: { allowDevelopmentWebhookUrls: true },
    });
    try {
      const devSession = await login(dev.url);
      const form = (path: string, fields: [string, string][]) =>
        fetch(dev.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: devSession.cookie },
          body: new URLSearchParams([...fields, ['_csrf', devSession.csrf]]),
          redirect: 'manual',
        });
      const page = async () => (await fetch(`${dev.url}/admin/webhooks`, { headers: { cookie: devSession.cookie } })).text();

      const hook = sim.createWebhook(sim.channelId, 'Sim hook');
      expect((await form('/admin/webhooks', [['name', 'Simulator'], ['url', hook.url], ['events', 'log_entry_created'], ['enabled', 'on']])).status).toBe(303);
      const id = await endpointIdByName('Simulator');
      expect((await form(`/admin/webhooks/${id}/test`, [['eventType', 'log_entry_created']])).status).toBe(303);
      const sent = await page();
      const messageId = /Test message \(Log entry created\) sent through “Simulator”: message (\d+)/.exec(sent)?.[1];
      expect(messageId).toBeDefined();
      expect(sim.messages(sim.channelId).map((m) => m.id)).toContain(messageId);
      expect(sent).not.toContain(hook.token);

      const gone = `${sim.apiUrl}/webhooks/199999999999999999/no-such-token-here`;
      expect((await form('/admin/webhooks', [['name', 'Gone'], ['url', gone], ['events', 'log_entry_created'], ['enabled', 'on']])).status).toBe(303);
      const goneId = await endpointIdByName('Gone');
      await form(`/admin/webhooks/${goneId}/test`, []);
      const failed = await page();
      expect(failed).toMatch(/Test message through “Gone” failed: unknown webhook 199999999999999999 \(10015\)/);
      expect(cardOf(failed, goneId)).toContain('Discord disabled this endpoint: unknown webhook 199999999999999999 (10015)');
      expect(failed).not.toContain('no-such-token-here');

      for (const endpointId of [id, goneId]) await form(`/admin/webhooks/${endpointId}/delete`, [['confirm', 'yes']]);
    } finally {
      await dev.close();
    }
  });

  it('deletes only after the confirming form', async () => {
    const id = await endpointIdByName('Workshop');
    const first = await post(`/admin/webhooks/${id}/delete`, []);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Delete webhook endpoint?');
    expect(first.text).toContain('name="confirm" value="yes"');
    expect(await web.db.prisma.webhookEndpoint.count({ where: { id } })).toBe(1);
    const confirmed = await post(`/admin/webhooks/${id}/delete`, [['confirm', 'yes']]);
    expect(confirmed.status).toBe(303);
    expect(await web.db.prisma.webhookEndpoint.count({ where: { id } })).toBe(0);
    expect((await get('/admin/webhooks')).text).toContain('Endpoint “Workshop” deleted');
    // A stale link to it lands on the list with a notice, not an error page.
    const stale = await fetch(`${web.url}/admin/webhooks/${id}/edit`, { headers: { cookie: session.cookie }, redirect: 'manual' });
    expect(stale.status).toBe(303);
    expect((await get('/admin/webhooks')).text).toContain('does not exist');
  });
});

describe('/admin/deliveries', () => {
  async function newEvent(description: string) {
    const machine = (await call(web.url, 'POST', '/api/machines', { name: `Machine ${description}` })).body;
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId: machine.id, description })).body;
    return web.db.prisma.outboxEvent.findFirstOrThrow({ where: { entityType: 'problem_report', entityId: report.id } });
  }
  const embed = (title: string) => ({ embeds: [{ title, url: 'http://localhost:3000/x', description: 'd' }], allowed_mentions: { parse: [] } });

  it('summarises rollout parity: counts, the verdict and each mismatch with what differs', async () => {
    const endpoint = await web.db.prisma.webhookEndpoint.create({ data: { name: 'Parity hook', url: discordUrl().url } });
    const matched = await newEvent('matched');
    await web.db.prisma.delivery.createMany({
      data: [
        { eventId: matched.id, target: 'bot', targetKey: '1', status: 'delivered', payload: embed('A') },
        { eventId: matched.id, target: 'webhook', targetKey: endpoint.id, status: 'delivered', payload: embed('A') },
      ],
    });
    let page = (await get('/admin/deliveries')).text;
    expect(page).toMatch(/data-count="bothDelivered"><b>1<\/b>both delivered/);
    expect(page).toContain('Ready to switch to bot.');

    const differs = await newEvent('differs');
    const hookFailed = await newEvent('hook failed');
    await web.db.prisma.delivery.createMany({
      data: [
        { eventId: differs.id, target: 'bot', targetKey: '1', status: 'delivered', payload: embed('B') },
        { eventId: differs.id, target: 'webhook', targetKey: endpoint.id, status: 'delivered', payload: embed('B, but not quite') },
        { eventId: hookFailed.id, target: 'bot', targetKey: '1', status: 'delivered', payload: embed('C') },
        { eventId: hookFailed.id, target: 'webhook', targetKey: endpoint.id, status: 'failed', lastError: 'Discord answered 500: boom' },
      ],
    });
    page = (await get('/admin/deliveries')).text;
    expect(page).toMatch(/data-count="bothDelivered"><b>2<\/b>/);
    expect(page).toMatch(/data-count="onlyBot"><b>1<\/b>only bot/);
    expect(page).toMatch(/data-count="onlyWebhook"><b>0<\/b>/);
    expect(page).toContain('Not ready to switch.');
    expect(page).toContain('2 events do not match');
    const row = (eventId: string) => page.slice(page.indexOf(`data-mismatch="${eventId}"`), page.indexOf('</tr>', page.indexOf(`data-mismatch="${eventId}"`)));
    expect(row(differs.id)).toContain('payloads differ');
    expect(row(differs.id)).toContain('<code>embeds[0].title</code>');
    expect(row(differs.id)).toContain('Parity hook');
    expect(row(hookFailed.id)).toContain('only the bot delivered');
    expect(row(hookFailed.id)).toContain('Discord answered 500: boom');
    // The ledger names the endpoint too.
    expect(page).toContain(`webhook <strong title="endpoint ${endpoint.id}">Parity hook</strong>`);
  });

  it('filters by target and pages by cursor; an action returns to the filtered page', async () => {
    const endpoint = await web.db.prisma.webhookEndpoint.create({ data: { name: 'Paging hook', url: discordUrl().url } });
    const events: { id: string }[] = [];
    for (const name of ['page one', 'page two', 'page three']) {
      const event = await newEvent(name);
      await web.db.prisma.delivery.createMany({
        data: [
          { eventId: event.id, target: 'bot', targetKey: '1100000000000000001', status: 'delivered' },
          { eventId: event.id, target: 'webhook', targetKey: endpoint.id, status: 'failed', lastError: 'Discord answered 500' },
        ],
      });
      events.push(event);
    }
    const first = (await get('/admin/deliveries?target=webhook&status=failed&limit=2')).text;
    const rows = [...first.matchAll(/data-target="(\w+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(['webhook', 'webhook']);
    expect(first).toContain(`data-event="${events[2]?.id}"`);
    expect(first).toContain(`data-event="${events[1]?.id}"`);
    const older = /<a href="([^"]+)" rel="next">/.exec(first)?.[1]?.replaceAll('&amp;', '&') ?? '';
    expect(new URL(older, web.url).searchParams.get('target')).toBe('webhook');
    expect(new URL(older, web.url).searchParams.get('status')).toBe('failed');
    const second = (await get(older.replace('#log', ''))).text;
    expect(second).toContain(`data-event="${events[0]?.id}"`);
    expect(second).not.toContain(`data-event="${events[1]?.id}"`);

    const oldest = events[0]?.id ?? '';
    const delivery = await web.db.prisma.delivery.findFirstOrThrow({ where: { eventId: oldest, target: 'webhook' } });
    const back = /name="back" value="([^"]+)"/.exec(second)?.[1]?.replaceAll('&amp;', '&') ?? '';
    const redelivered = await post(`/admin/deliveries/${delivery.id}/redeliver`, [['back', back]]);
    expect(redelivered.status).toBe(303);
    const location = new URL(redelivered.location ?? '', web.url);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ target: 'webhook', status: 'failed', limit: '2' });
    expect(location.searchParams.get('before')).not.toBeNull();
    // Only this page's own address is followed back; anything else lands on the log.
    const elsewhere = await post(`/admin/deliveries/${delivery.id}/redeliver`, [['back', 'https://evil.example/admin/deliveries']]);
    expect(elsewhere.location).toBe('/admin/deliveries');
  });

  it('filters held digest posts, shows their digest key, and the embed index of batched posts', async () => {
    const held = await newEvent('held');
    await web.db.prisma.delivery.create({
      data: { eventId: held.id, target: 'bot', targetKey: '1100000000000000001', status: 'held', digestKey: '1100000000000000001:ada' },
    });
    const page = (await get('/admin/deliveries?status=held')).text;
    expect(page).toContain('<option value="held" selected>held (in a digest)</option>');
    expect(page).toContain('in a digest for ada');
    expect(page).toContain('posts with its digest');
    expect(page).not.toContain(`data-event="${(await newEvent('not held')).id}"`);

    const leader = await newEvent('leader');
    const follower = await newEvent('follower');
    const lead = await web.db.prisma.delivery.create({
      data: { eventId: leader.id, target: 'bot', targetKey: '1', status: 'delivered', discordChannelId: '1', discordMessageId: '777000000000000001', embedIndex: 0 },
    });
    await web.db.prisma.delivery.update({ where: { id: lead.id }, data: { batchId: lead.id } });
    await web.db.prisma.delivery.create({
      data: {
        eventId: follower.id,
        target: 'bot',
        targetKey: '1',
        status: 'delivered',
        discordChannelId: '1',
        discordMessageId: '777000000000000001',
        embedIndex: 2,
        batchId: lead.id,
      },
    });
    const all = (await get('/admin/deliveries')).text;
    expect(all).toContain('embed 1 of message <span class="id">777000000000000001</span>');
    expect(all).toContain('embed 3 of message <span class="id">777000000000000001</span>');
  });
});
