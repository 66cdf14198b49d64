/**
 * The rollout from the console in Chromium: add a webhook endpoint, send it
 * a test, switch the delivery mode to `both`, and see the rollout summary
 * count the next record as delivered by both paths. Whole pipeline:
 * simulator, worker (with the legacy webhook path) and web.
 */
import type { Browser, Page } from 'playwright-core';
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
let page: Page;


async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENS}/${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${SCREENS}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!hasChromium)('webhook endpoints and the rollout in a browser', () => {
  beforeAll(async () => {
    stack = await startStack({ legacyWebhooks: true, web: { allowDevelopmentWebhookUrls: true } });
    ({ sim, worker, web } = stack);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${web.url}/admin/webhooks`);
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${web.url}/admin/webhooks`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows field messages for a bad form', async () => {
    await page.fill('#wh-name', '');
    await page.fill('#wh-url', 'https://example.com/not-a-webhook');
    await page.click('form.endpoint-form button[type=submit]');
    await page.waitForSelector('#url-error');
    expect(await page.textContent('#name-error')).toBe('Please fill this in.');
    expect(await page.textContent('#url-error')).toContain('Must be a Discord webhook URL');
    expect(await page.inputValue('#wh-url')).toBe('');
    await shoot('webhooks-form-errors');
  });

  it('adds a webhook endpoint and sends it a test message', async () => {
    const hook = sim.createWebhook(sim.channelId, 'Legacy Flipfix');
    await page.goto(`${web.url}/admin/webhooks`);
    await page.fill('#wh-name', 'Museum #machine-notifications');
    await page.fill('#wh-url', hook.url);
    // Every type is ticked for a new endpoint; this one skips part request updates.
    await page.uncheck('input[name="events"][value="part_request_update_created"]');
    await page.click('form.endpoint-form button[type=submit]');
    await page.waitForURL(`${web.url}/admin/webhooks`);
    expect(await page.textContent('.notice.ok')).toContain('Endpoint “Museum #machine-notifications” added');
    const card = page.locator('article.endpoint', { hasText: 'Museum #machine-notifications' });
    expect(await card.locator('.url').textContent()).toBe(`${sim.apiUrl}/webhooks/${hook.id}/***`);
    expect(await card.textContent()).toContain('Problem report created, Log entry created, Part request created');
    expect(await page.content()).not.toContain(hook.token);

    await card.locator('select[name="eventType"]').selectOption('log_entry_created');
    await card.locator('button', { hasText: 'Send test' }).click();
    await page.waitForURL(`${web.url}/admin/webhooks`);
    const notice = (await page.textContent('.notice.ok')) ?? '';
    const messageId = /message (\d+) in channel/.exec(notice)?.[1];
    expect(messageId, notice).toBeDefined();
    const posted = sim.messages(sim.channelId).find((m) => m.id === messageId);
    expect(posted?.webhook_id).toBe(hook.id);
    expect(await page.content()).not.toContain(hook.token);
    await shoot('webhooks');

    await card.locator('a', { hasText: 'Edit' }).click();
    expect(await page.textContent('h1')).toBe('Edit webhook endpoint');
    expect(await page.getAttribute('#wh-url', 'placeholder')).toBe(`${sim.apiUrl}/webhooks/${hook.id}/***`);
    await shoot('webhooks-edit');
  });

  it('switches the delivery mode to both and counts the next record as delivered by both paths', async () => {
    await page.goto(`${web.url}/admin/settings`);
    expect(await page.textContent('#endpoint-count')).toContain('1 webhook endpoint is enabled');
    await page.check('input[name="deliveryMode"][value="both"]');
    await page.click('form[action="/admin/settings"] button[type=submit]');
    await page.waitForURL(`${web.url}/admin/settings`);
    expect(await page.textContent('.notice.ok')).toContain('Settings saved');
    await shoot('settings-both');
    await until(async () => worker.settings.current.deliveryMode === 'both', 'the worker to switch to both');

    const machine = (await call(web.url, 'POST', '/api/machines', { name: 'Twilight Zone', shortName: 'TZ' })).body;
    const report = (await call(web.url, 'POST', '/api/problem-reports', { machineId: machine.id, description: 'Clock does not turn', reporterName: 'Ada' })).body;
    const deliveries = await until(async () => {
      const event = await web.db.prisma.outboxEvent.findFirst({ where: { entityType: 'problem_report', entityId: report.id }, include: { deliveries: true } });
      const rows = event?.deliveries ?? [];
      return rows.length === 2 && rows.every((d) => d.status === 'delivered') ? rows : null;
    }, 'the bot post and the webhook post');
    expect(deliveries.map((d) => d.target).sort()).toEqual(['bot', 'webhook']);

    await page.goto(`${web.url}/admin/deliveries`);
    expect(await page.textContent('[data-count="bothDelivered"] b')).toBe('1');
    expect(await page.textContent('[data-count="onlyBot"] b')).toBe('0');
    expect(await page.textContent('#rollout-verdict')).toContain('Ready to switch to bot');
    const row = page.locator(`tr[data-event="${deliveries[0]?.eventId}"]`);
    expect(await row.count()).toBe(2);
    expect(await row.nth(1).textContent()).toContain('Museum #machine-notifications');
    await shoot('deliveries-rollout');
  });

  it('disables and deletes the endpoint, the delete behind a confirming form', async () => {
    await page.goto(`${web.url}/admin/webhooks`);
    const card = page.locator('article.endpoint', { hasText: 'Museum #machine-notifications' });
    await card.locator('button', { hasText: 'Disable' }).click();
    await page.waitForURL(`${web.url}/admin/webhooks`);
    expect(await card.locator('.badge').textContent()).toBe('disabled');
    await card.locator('a', { hasText: 'Delete' }).click();
    expect(await page.textContent('h1')).toBe('Delete webhook endpoint?');
    await shoot('webhooks-delete');
    await page.click('button.danger');
    await page.waitForURL(`${web.url}/admin/webhooks`);
    expect(await page.textContent('.notice.ok')).toContain('deleted');
    expect(await page.locator('article.endpoint').count()).toBe(0);
  });
});
