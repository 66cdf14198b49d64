/**
 * The console and the public pages as a new user meets them, in Chromium at
 * 1280 px and 390 px: forms keep what was typed and say what is wrong beside
 * the field, lists page, search and never overflow, the delivery log's
 * filters hold, names stand where ids stood, and the job dashboard leads back
 * to the console without loading anything from the internet. Whole pipeline:
 * simulator, worker (with the legacy webhook path) and web.
 */
import type { Browser, Page } from 'playwright-core';
import { checkWidths, hasChromium, launchChromium } from '@flipfix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_ROLE, type Simulator } from '@flipfix/discord-sim';
import type { RunningWorker } from '@flipfix/worker';
import { call, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';
import { type Stack, startStack, until } from './stack';

let stack: Stack;
let sim: Simulator;
let worker: RunningWorker;
let web: TestWeb;
let browser: Browser;
let page: Page;
let machineId: number;
const bearer = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** No horizontal overflow at either width; screenshots saved. */
async function fits(name: string): Promise<void> {
  const widths = await checkWidths(page, name);
  expect(widths, name).toEqual([
    { width: 1280, overflowPx: 0 },
    { width: 390, overflowPx: 0 },
  ]);
}

/** Submits the form that holds `selector` and waits for the answer page. */
async function submit(selector: string): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), page.locator(selector).locator('xpath=ancestor::form').locator('button[type=submit]').click()]);
  await page.waitForLoadState('load');
}

describe.skipIf(!hasChromium)('forms, lists and the console for a new user', () => {
  beforeAll(async () => {
    stack = await startStack({ legacyWebhooks: true, web: { allowDevelopmentWebhookUrls: true } });
    ({ sim, worker, web } = stack);
    machineId = (await call(web.url, 'POST', '/api/machines', { name: 'Attack from Mars', shortName: 'AFM' })).body.id;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('starts the problem form on "Other", as the API does', async () => {
    await page.goto(`${web.url}/`);
    expect(await page.inputValue('#pr-type')).toBe('other');
    await fits('home');
  });

  it('keeps a refused log entry as typed and says beside the field that report #9999 does not exist', async () => {
    await page.goto(`${web.url}/`);
    await page.fill('#le-text', 'Replaced the left flipper coil');
    await page.fill('#le-names', 'Ada, Grace');
    await page.fill('#le-report', '9999');
    await submit('#le-text');
    expect(await page.inputValue('#le-text')).toBe('Replaced the left flipper coil');
    expect(await page.inputValue('#le-names')).toBe('Ada, Grace');
    expect(await page.inputValue('#le-report')).toBe('9999');
    expect(await page.textContent('#le-report-error')).toBe('There is no problem report #9999.');
    expect(await page.getAttribute('#le-report', 'aria-invalid')).toBe('true');
    expect(await page.textContent('.notice.error')).toContain('Not saved');
    await fits('home-log-entry-refused');
  });

  it('keeps a problem report and a part request whose photo URL is bad, and names the line in plain words', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${web.url}/`);
    await page.selectOption('#pr-type', 'no_credits');
    await page.fill('#pr-desc', 'Coin door eats quarters');
    await page.fill('#pr-name', 'Val');
    await page.fill('#pr-contact', 'val@example.com');
    await page.fill('#pr-photos', 'https://example.com/ok.jpg\nnot a url');
    await submit('#pr-desc');
    expect(await page.inputValue('#pr-type')).toBe('no_credits');
    expect(await page.inputValue('#pr-desc')).toBe('Coin door eats quarters');
    expect(await page.inputValue('#pr-name')).toBe('Val');
    expect(await page.inputValue('#pr-contact')).toBe('val@example.com');
    expect(await page.inputValue('#pr-photos')).toBe('https://example.com/ok.jpg\nnot a url');
    const photoError = (await page.textContent('#pr-photos-error')) ?? '';
    expect(photoError).toMatch(/^Line 2 is not a web address/);
    expect(await page.textContent('main')).not.toContain('photoUrls');

    await page.fill('#pq-text', 'Left flipper coil');
    await page.fill('#pq-name', 'Grace');
    await page.fill('#pq-photos', 'ftp://example.com/coil.jpg');
    await submit('#pq-text');
    expect(await page.inputValue('#pq-text')).toBe('Left flipper coil');
    expect(await page.inputValue('#pq-name')).toBe('Grace');
    expect(await page.textContent('#pq-photos-error')).toMatch(/^Line 1 is not a web address/);
    // The refused form is the one in view, not the top of the page.
    expect(new URL(page.url()).hash).toBe('#part-form');
    expect(await page.locator('#pq-text').isVisible()).toBe(true);
    expect(await page.evaluate('document.getElementById("part-form").getBoundingClientRect().top < window.innerHeight')).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('says a record was saved, and an update returns to its part request (a blank one stays, with the reason)', async () => {
    await page.goto(`${web.url}/`);
    await page.fill('#pq-text', 'Flipper rubber, red');
    await submit('#pq-text');
    expect(new URL(page.url()).pathname).toMatch(/^\/part-requests\/\d+$/);
    expect(await page.textContent('.notice.ok')).toContain('Part request saved');
    const partPath = new URL(page.url()).pathname;

    await page.fill('#u-text', '    ');
    await page.fill('#u-name', 'Grace');
    await page.selectOption('#u-status', 'ordered');
    await submit('#u-text');
    expect(new URL(page.url()).pathname).toBe(`${partPath}/updates`);
    expect(await page.textContent('h1')).toContain('📦');
    expect(await page.textContent('#u-text-error')).toBe('Please fill this in.');
    expect(await page.inputValue('#u-name')).toBe('Grace');
    expect(await page.inputValue('#u-status')).toBe('ordered');

    await page.fill('#u-text', 'Ordered from the usual supplier');
    await submit('#u-text');
    expect(new URL(page.url()).pathname).toBe(partPath);
    expect(await page.textContent('.notice.ok')).toBe('Update posted.');
    expect(await page.textContent('ul.list')).toContain('Ordered from the usual supplier');
    await fits('part-request');
  });

  it('pages, searches and filters a list, and a 10,000-character word does not widen it', async () => {
    // Not posted: 32 posts would keep the channel's rate limit busy for half a minute.
    const posting = (enabled: boolean) => call(web.url, 'PATCH', '/api/admin/settings', { events: { problem_report_created: { enabled }, problem_report_status_changed: { enabled } } }, bearer);
    await posting(false);
    await until(async () => !worker.settings.current.events.problem_report_created.enabled, 'the worker to reload settings');
    const word = 'x'.repeat(10_000);
    await call(web.url, 'POST', '/api/problem-reports', { machineId, description: word });
    for (let i = 1; i <= 30; i++) await call(web.url, 'POST', '/api/problem-reports', { machineId, description: `Rollover switch ${i} sticks` });
    const closed = (await call(web.url, 'POST', '/api/problem-reports', { machineId, description: 'Saucer fixed already' })).body;
    await call(web.url, 'PATCH', `/api/problem-reports/${closed.id}`, { status: 'closed' });
    await posting(true);

    await page.goto(`${web.url}/problem-reports`);
    expect(await page.locator('ul.list > li').count()).toBe(25);
    await page.click('a[rel=next]');
    expect(await page.locator('ul.list > li').count()).toBeGreaterThan(0);
    expect(await page.textContent('ul.list')).toContain('x'.repeat(100));
    await fits('problem-reports-page-2');

    await page.goto(`${web.url}/problem-reports`);
    await page.fill('#f-q', 'rollover switch 1');
    await submit('#f-q');
    const found = await page.locator('ul.list > li').allTextContents();
    expect(found.length).toBe(11); // 1 and 10–19
    expect(found.every((t) => /Rollover switch 1\d? sticks/.test(t))).toBe(true);

    await page.goto(`${web.url}/problem-reports?status=closed`);
    expect(await page.locator('ul.list > li').count()).toBe(1);
    expect(await page.textContent('ul.list')).toContain('Saucer fixed already');
    await page.goto(`${web.url}/problem-reports?q=rollover&status=open`);
    await page.click('a[rel=next]');
    const next = new URL(page.url());
    expect([next.searchParams.get('q'), next.searchParams.get('status')]).toEqual(['rollover', 'open']);
    await fits('problem-reports-filtered');
  });

  it('logs in to the console', async () => {
    await page.goto(`${web.url}/admin/settings`);
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/admin/settings`);
  });

  it('settings: reports every bad field at once beside it and keeps every other change; channels by name', async () => {
    await page.goto(`${web.url}/admin/settings`);
    const channel = page.locator('#channelId');
    expect(await channel.evaluate((el) => el.tagName)).toBe('SELECT');
    expect(await page.locator(`#channelId option[value="${sim.channelId}"]`).textContent()).toBe('#machine-notifications');
    expect(await page.getAttribute(`#channelId option[value="${sim.channelId}"]`, 'title')).toBe(`channel id ${sim.channelId}`);
    await page.check('input[name=deliveryMode][value=both]');
    await page.check('input[name=threadsEnabled]');
    await page.fill('#reactions-log_entry_created', '👀 ✅');
    await page.fill('#reactions-problem_report_created', '👀 ✅ 🔧 🎉');
    await page.fill('#quiet', '5');
    await page.selectOption('#events-part_request_created-channelId', sim.channelId);
    await submit('#quiet');
    expect(await page.textContent('#reactions-problem_report_created-error')).toBe('At most 3 reactions.');
    expect(await page.textContent('#quiet-error')).toBe('Must be at least 10.');
    expect(await page.isChecked('input[name=deliveryMode][value=both]')).toBe(true);
    expect(await page.isChecked('input[name=threadsEnabled]')).toBe(true);
    expect(await page.inputValue('#reactions-log_entry_created')).toBe('👀 ✅');
    expect(await page.inputValue('#reactions-problem_report_created')).toBe('👀 ✅ 🔧 🎉');
    expect(await page.inputValue('#events-part_request_created-channelId')).toBe(sim.channelId);
    expect((await call(web.url, 'GET', '/api/admin/settings', undefined, bearer)).body.deliveryMode).toBe('bot');
    await fits('settings-refused');

    expect(await page.locator('#role option').allTextContents()).toEqual(['No role', '@Maintainers']);
    await page.selectOption('#role', SIM_ROLE.id);
    await page.fill('#reactions-problem_report_created', '👀');
    await page.fill('#quiet', '60');
    await page.uncheck('input[name=threadsEnabled]');
    await submit('#quiet');
    expect(await page.textContent('.notice.ok')).toContain('Settings saved');
    const saved = (await call(web.url, 'GET', '/api/admin/settings', undefined, bearer)).body;
    expect(saved.deliveryMode).toBe('both');
    expect(saved.reactions.log_entry_created).toEqual(['👀', '✅']);
    expect(saved.unplayableRoleId).toBe(SIM_ROLE.id);
    expect(await page.textContent('#audit')).toContain('Delivery mode');
    expect(await page.textContent('#audit')).not.toContain('events.part_request_created');
    await fits('settings');
  });

  it('delivery log: Target=webhook shows only webhook rows, "Post again" keeps the filter, names instead of keys', async () => {
    const hook = sim.createWebhook(sim.channelId, 'Legacy hook');
    const endpoint = await call(web.url, 'POST', '/api/admin/webhook-endpoints', { name: 'Front desk hook', url: hook.url, events: ['problem_report_created'] }, bearer);
    expect(endpoint.status).toBe(201);
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId, description: 'Ramp diverter stuck' })).body;
    await call(web.url, 'PATCH', `/api/problem-reports/${report.id}`, { status: 'closed' });
    const rows = await until(async () => {
      const found = await web.db.prisma.delivery.findMany({ where: { event: { entityType: 'problem_report', entityId: report.id } } });
      return found.length >= 3 && found.every((d) => d.status === 'delivered') ? found : null;
    }, 'the bot post, the webhook post and the edit', 30_000);
    expect(rows.map((d) => d.target).sort()).toEqual(['bot', 'bot', 'webhook']);

    await page.goto(`${web.url}/admin/deliveries`);
    const log = page.locator('table.log');
    expect(await log.textContent()).not.toMatch(/edit:problem_report/);
    expect(await log.textContent()).toContain(`bot edits the post of problem report #${report.id}`);
    expect(await log.textContent()).toContain('#machine-notifications');
    expect(await log.textContent()).toContain('Front desk hook');
    await fits('deliveries');

    await page.selectOption('#f-target', 'webhook');
    await submit('#f-target');
    expect(await page.locator('table.log tr[data-target="bot"]').count()).toBe(0);
    expect(await page.locator('table.log tr[data-target="webhook"]').count()).toBeGreaterThan(0);
    await page.locator('table.log tr[data-target="webhook"] button', { hasText: 'Post again' }).first().click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).searchParams.get('target')).toBe('webhook');
    expect(await page.inputValue('#f-target')).toBe('webhook');
    expect(await page.textContent('.notice.ok')).toContain('again');
    expect(await page.locator('table.log tr[data-target="bot"]').count()).toBe(0);
    await fits('deliveries-webhook');
  });

  it('overview and health name the endpoint of a failure, and health lists every queue by its dashboard name', async () => {
    const endpoint = (await call(web.url, 'GET', '/api/admin/webhook-endpoints', undefined, bearer)).body.items[0];
    const event = await web.db.prisma.outboxEvent.findFirstOrThrow({ orderBy: { seq: 'desc' } });
    await web.db.prisma.delivery.create({
      data: { eventId: event.id, target: 'webhook', targetKey: endpoint.id, action: 'post', status: 'failed', lastError: 'Discord answered 404: Unknown Webhook', errorClass: 'permanent' },
    });
    await page.goto(`${web.url}/admin`);
    const failures = (await page.textContent('main')) ?? '';
    expect(failures).toContain('webhook Front desk hook');
    expect(failures).not.toContain(endpoint.id);
    await fits('overview');

    await page.goto(`${web.url}/admin/health`);
    const queues = await page.locator('table tbody tr td:first-child').allTextContents();
    expect(queues.sort()).toEqual(['bot-deliveries', 'digests', 'webhook-deliveries']);
    await fits('health');
  });

  it('the job dashboard links back to the console and loads nothing from the internet', async () => {
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(web.url)) external.push(request.url());
    });
    await page.goto(`${web.url}/admin/queues`);
    await page.waitForSelector('main >> text=bot-deliveries');
    for (const name of ['webhook-deliveries', 'digests']) expect(await page.content()).toContain(name);
    const back = page.locator('nav.ff-bar a[href="/admin"]', { hasText: 'Overview' });
    expect(await back.count()).toBeGreaterThan(0);
    await fits('queues');
    expect(external).toEqual([]);
    await back.first().click();
    await page.waitForURL(`${web.url}/admin`);
  });

  it('every other page fits at both widths', async () => {
    const report = (await call(web.url, 'GET', '/api/problem-reports?limit=1')).body.items[0];
    const entry = (await call(web.url, 'GET', '/api/log-entries?limit=1')).body.items[0];
    const update = await web.db.prisma.partRequestUpdate.findFirstOrThrow();
    const endpoint = (await call(web.url, 'GET', '/api/admin/webhook-endpoints', undefined, bearer)).body.items[0];
    for (const [name, path] of [
      ['machines', '/machines'],
      ['machine', `/machines/${machineId}`],
      ['problem-report', `/problem-reports/${report.id}`],
      ['log-entries', '/log-entries'],
      ['log-entry', `/log-entries/${entry.id}`],
      ['part-requests', '/part-requests'],
      ['part-request-update', `/part-request-updates/${update.id}`],
      ['webhooks', '/admin/webhooks'],
      ['webhook-edit', `/admin/webhooks/${endpoint.id}/edit`],
      ['not-found', '/no-such-page'],
    ] as const) {
      await page.goto(web.url + path);
      await fits(name);
    }
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await visitor.newPage();
    await page.goto(`${web.url}/admin/login`);
    await fits('login');
  });
});
