/**
 * The console in Chromium, against the whole pipeline: simulator, worker and
 * web over a fresh database and a unique Redis prefix.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hasChromium, launchChromium, SCREENSHOTS_DIR } from '@flipfix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@flipfix/discord-sim';
import type { RunningWorker } from '@flipfix/worker';
import { call, TEST_ADMIN_TOKEN, type TestWeb } from './helpers';
import { type Stack, startStack, until } from './stack';

const SCREENS = SCREENSHOTS_DIR;

let stack: Stack;
let sim: Simulator;
let worker: RunningWorker;
let web: TestWeb;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let machineId: number;


async function deliveriesOf(entityType: string, entityId: number) {
  const event = await web.db.prisma.outboxEvent.findFirst({ where: { entityType, entityId }, include: { deliveries: true } });
  return event?.deliveries ?? [];
}

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENS}/${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${SCREENS}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!hasChromium)('admin console in a browser', () => {
  beforeAll(async () => {
    stack = await startStack();
    ({ sim, worker, web } = stack);
    machineId = (await call(web.url, 'POST', '/api/machines', { name: 'Attack from Mars', shortName: 'AFM' })).body.id;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('refuses every admin route to the unauthenticated', async () => {
    for (const path of ['/admin', '/admin/settings', '/admin/deliveries', '/admin/queues', '/admin/health', '/admin/webhooks']) {
      await page.goto(web.url + path);
      expect(new URL(page.url()).pathname, path).toBe('/admin/login');
    }
    const api = await page.request.get(`${web.url}/api/admin/settings`);
    expect(api.status()).toBe(401);
    await shoot('login');
  });

  it('logs in', async () => {
    await page.goto(`${web.url}/admin/settings`);
    await page.fill('#token', 'not-the-token-at-all');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.notice')).toContain('That token is not right');
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/admin/settings`);
    expect(await page.textContent('h1')).toBe('Settings');
  });

  it('follows a toggle: a disabled event type is skipped while another is posted', async () => {
    await page.uncheck('input[name="events.part_request_created.enabled"]');
    await page.click('form[action="/admin/settings"] button[type=submit]');
    await page.waitForURL(`${web.url}/admin/settings`);
    expect(await page.textContent('.notice.ok')).toContain('Settings saved');
    expect(await page.isChecked('input[name="events.part_request_created.enabled"]')).toBe(false);
    expect(await page.textContent('#audit')).toContain('Part request created: posted');
    await shoot('settings');
    await until(async () => worker.settings.current.events.part_request_created.enabled === false, 'the worker to reload settings');

    const part = (await call(web.url, 'POST', '/api/part-requests', { text: 'Spare flipper bat', machineId })).body;
    const entry = (await call(web.url, 'POST', '/api/log-entries', { machineId, text: 'Adjusted the left flipper' })).body;
    const skipped = await until(async () => (await deliveriesOf('part_request', part.id)).find((d) => d.status === 'skipped'), 'the part request to be skipped');
    expect(skipped.lastError).toMatch(/disabled/);
    const delivered = await until(async () => (await deliveriesOf('log_entry', entry.id)).find((d) => d.status === 'delivered'), 'the log entry post');
    expect(sim.messages(sim.channelId).map((m) => m.id)).toContain(delivered.discordMessageId);
    expect(sim.messages(sim.channelId).some((m) => JSON.stringify(m.embeds).includes('Spare flipper bat'))).toBe(false);

    await page.check('input[name="events.part_request_created.enabled"]');
    await page.click('form[action="/admin/settings"] button[type=submit]');
    await page.waitForURL(`${web.url}/admin/settings`);
  });

  it('sends a test message and shows the message id', async () => {
    await page.click('form[action="/admin/settings/test"]:has(input[value="log_entry_created"]) button');
    await page.waitForURL(`${web.url}/admin/settings`);
    const notice = (await page.textContent('.notice.ok')) ?? '';
    const id = /message (\d+)\./.exec(notice)?.[1];
    expect(id).toBeDefined();
    expect(sim.messages(sim.channelId).map((m) => m.id)).toContain(id);
  });

  it('redelivers a failed delivery once the channel permission is back', async () => {
    sim.createChannel({ id: sim.channelId, permissions: { send: false } });
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId, description: 'Saucer kicks weakly' })).body;
    const failed = await until(async () => (await deliveriesOf('problem_report', report.id)).find((d) => d.status === 'failed'), 'the post to fail');
    expect(failed.lastError).toMatch(/lacks Send Messages/);
    const health = await call(web.url, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.reasons.join(' ')).toMatch(/lacks Send Messages/);
    await page.goto(`${web.url}/admin/health`);
    expect(await page.textContent('main')).toContain('lacks Send Messages');
    await shoot('health');

    sim.createChannel({ id: sim.channelId, permissions: { send: true } });
    await page.goto(`${web.url}/admin/deliveries?status=failed`);
    const row = page.locator(`tr[data-delivery="${failed.id}"]`);
    expect(await row.textContent()).toContain('failed');
    await shoot('deliveries-failed');
    await row.locator('button', { hasText: 'Redeliver' }).click();
    // Back to the log as it was filtered.
    await page.waitForURL(`${web.url}/admin/deliveries?status=failed#log`);
    expect(await page.textContent('.notice.ok')).toContain('queued again');
    const done = await until(async () => {
      const d = await web.db.prisma.delivery.findUnique({ where: { id: failed.id } });
      return d?.status === 'delivered' ? d : null;
    }, 'the redelivery');
    expect(sim.messages(sim.channelId).map((m) => m.id)).toContain(done.discordMessageId);
    await page.goto(`${web.url}/admin/deliveries`);
    expect(await page.locator(`tr[data-delivery="${failed.id}"] .badge`).textContent()).toBe('delivered');
    await shoot('deliveries');
    expect((await call(web.url, 'GET', '/health')).status).toBe(200);
  });

  it('opens the job dashboard', async () => {
    await page.goto(`${web.url}/admin/queues`);
    await page.waitForSelector('text=bot-deliveries', { timeout: 15_000 });
    expect(await page.content()).toContain('webhook-deliveries');
    await page.click('text=bot-deliveries');
    // The queue's job list loaded through bull-board's API, behind the session.
    await page.waitForSelector('text=Completed', { timeout: 15_000 });
    await shoot('queues');
  });

  it('shows the overview', async () => {
    await page.goto(`${web.url}/admin`);
    expect(await page.textContent('main')).toContain('Delivery mode');
    await shoot('overview');
  });

  it('refuses a form posted without its CSRF token', async () => {
    await page.goto(`${web.url}/admin/settings`);
    // Runs in the page, like a forged form would arrive: the same fields minus the token.
    await page.locator('form[action="/admin/settings"] input[name="_csrf"]').evaluate((input) => input.remove());
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${web.url}/admin/settings` && r.request().method() === 'POST'),
      page.click('form[action="/admin/settings"] button[type=submit]'),
    ]);
    expect(response.status()).toBe(403);
    expect(await page.textContent('body')).toContain('CSRF');
  });

  it('renders the public pages on a phone', async () => {
    await page.goto(`${web.url}/`);
    await shoot('home');
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId, description: 'Photo test', photoUrls: [`${web.url}/static/flipfix-test-photo.png`] })).body;
    await page.goto(`${web.url}/problem-reports/${report.id}`);
    expect(await page.locator('.photos img').count()).toBe(1);
    await shoot('problem-report');
  });
});
