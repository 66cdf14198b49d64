import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '@flipfix/testing';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from './helpers';

const SCREENS = '/tmp/flipfix-screens';
if (!hasChromium) console.warn(`viewer e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('viewer page', () => {
  let browser: Browser;
  const ctx = setup();

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await (await ctx).sim.close();
  });

  it('renders an embed with link, fields, gallery and buttons like Discord, then shows an edit', async () => {
    const { sim, rest } = await ctx;
    const url = 'https://flipfix.example/problem-reports/42';
    // Data-URL images keep the test off the network.
    const photo = (hex: string) =>
      `data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="100%" height="100%" fill="#${hex}"/></svg>`).toString('base64')}`;
    const photos = ['https://img.example/1.jpg', 'https://img.example/2.jpg', 'https://img.example/3.jpg'];
    const message = (await rest.post(Routes.channelMessages(sim.channelId), {
      body: {
        content: 'New problem report <@123456789012345678>',
        allowed_mentions: { parse: [] },
        embeds: [
          {
            title: '⚠️ Godzilla',
            url,
            color: 0xe67e22,
            description: '**Stuck ball** — ball stuck behind the _left ramp_ <script>alert(1)</script>\n[Machine page](https://flipfix.example/machines/godzilla)\n— Ada',
            fields: [
              { name: 'Priority', value: 'Unplayable', inline: true },
              { name: 'Location', value: 'Floor 1', inline: true },
            ],
            image: { url: photos[0] },
            footer: { text: 'Flipfix · problem report #42' },
            timestamp: new Date().toISOString(),
          },
          { url, image: { url: photos[1] } },
          { url, image: { url: photos[2] } },
        ],
        components: [
          {
            type: 1,
            components: [
              { type: 2, style: 5, label: 'Open report', url },
              { type: 2, style: 3, label: 'Mark fixed', custom_id: 'report:42:close' },
            ],
          },
        ],
      },
    })) as { id: string };

    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    // Serve the photos locally so the screenshot shows real images without any network.
    const colours = ['c0392b', '27ae60', '2980b9'];
    await page.route('https://img.example/**', async (route) => {
      const i = photos.indexOf(route.request().url());
      const svg = Buffer.from(photo(colours[i] ?? '888888').split(',')[1]!, 'base64');
      await route.fulfill({ status: 200, contentType: 'image/svg+xml', body: svg });
    });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${sim.url}/`);

    const title = page.locator('.embed-title a');
    await title.waitFor();
    expect(await title.textContent()).toBe('⚠️ Godzilla');
    expect(await title.getAttribute('href')).toBe(url);
    expect(await page.locator('.embed-description strong').textContent()).toBe('Stuck ball');
    expect(await page.locator('.embed-description').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('.embed-description script').count()).toBe(0);
    expect(await page.locator('.embed-description a').getAttribute('href')).toBe('https://flipfix.example/machines/godzilla');
    expect(await page.locator('.field-name').allTextContents()).toEqual(['Priority', 'Location']);
    expect(await page.locator('.gallery img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')))).toEqual(photos);
    // The page runs in the browser, where `document` exists; the test itself compiles without DOM types.
    await page.waitForFunction(`[...document.querySelectorAll('.gallery img')].every((i) => i.complete && i.naturalWidth > 0)`);
    expect(await page.locator('.embed').count()).toBe(1);
    const link = page.locator('a.btn', { hasText: 'Open report' });
    expect(await link.getAttribute('href')).toBe(url);
    expect(await page.locator('button.btn', { hasText: 'Mark fixed' }).getAttribute('data-custom-id')).toBe('report:42:close');
    expect(await page.locator('.mention.silent').count()).toBe(1);
    expect(await page.locator('.edited').count()).toBe(0);

    await rest.patch(Routes.channelMessage(sim.channelId, message.id), { body: { content: 'Problem report closed' } });
    await page.locator('.edited').waitFor();
    expect(await page.locator('.msg .content').first().textContent()).toContain('Problem report closed');

    mkdirSync(SCREENS, { recursive: true });
    await page.screenshot({ path: `${SCREENS}/viewer.png` });
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('shows reactions, a webhook post and a thread with its archived state', async () => {
    const { sim, rest } = await ctx;
    sim.reset();
    sim.configure({ rateLimits: { perChannel: null } });
    const m = (await rest.post(Routes.channelMessages(sim.channelId), { body: { content: 'Part request: flipper coil' } })) as { id: string };
    await rest.put(Routes.channelMessageOwnReaction(sim.channelId, m.id, encodeURIComponent('👀')));
    const thread = (await rest.post(Routes.threads(sim.channelId, m.id), { body: { name: 'Flipper coil order' } })) as { id: string };
    await rest.post(Routes.channelMessages(thread.id), { body: { content: 'Ordered from the usual supplier' } });
    await rest.patch(Routes.channel(thread.id), { body: { archived: true } });
    const hook = sim.createWebhook(sim.channelId, 'Flipfix legacy');
    await rest.post(Routes.webhook(hook.id, hook.token), { body: { content: 'Legacy webhook post' }, auth: false });

    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.setDefaultTimeout(5000);
    await page.goto(`${sim.url}/`);
    await page.locator('.thread-box').waitFor();
    expect(await page.locator('.reaction').first().textContent()).toBe('👀1');
    expect(await page.locator('.thread-head').textContent()).toContain('Flipper coil order');
    expect(await page.locator('.thread-head .archived').textContent()).toBe('Archived');
    expect(await page.locator('.thread-msg').textContent()).toContain('Ordered from the usual supplier');
    expect(await page.locator('.tag', { hasText: 'WEBHOOK' }).count()).toBe(1);
    // The thread is listed under its channel and opens on click.
    await page.locator(`#channels button[data-channel-id="${thread.id}"]`).click();
    await page.locator('#channel-meta', { hasText: 'archived' }).waitFor();
    expect(await page.locator('.msg .content').textContent()).toContain('Ordered from the usual supplier');
    await page.goto(`${sim.url}/#${sim.channelId}`);
    await page.locator('.thread-box').waitFor();
    await page.screenshot({ path: `${SCREENS}/viewer-thread.png` });
    await page.close();
  });
});
