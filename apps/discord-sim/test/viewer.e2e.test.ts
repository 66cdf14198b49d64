import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { checkWidths, CHROMIUM, hasChromium, launchChromium, SCREENSHOTS_DIR } from '@flipfix/testing';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from './helpers';

const SCREENS = SCREENSHOTS_DIR;
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

  it('renders Markdown as Discord does: escapes hidden, bold, italics, links, code, headings and lists', async () => {
    const { sim, rest } = await ctx;
    sim.reset();
    await rest.post(Routes.channelMessages(sim.channelId), {
      body: {
        embeds: [
          {
            title: 'Update',
            description:
              '## Coil order\n**Ordered** the _right_ coil \\(the old one burnt\\) from [Marco](https://marco.example/coil) \\*not italic\\*\n- flipper coil\n- sleeve\n`keep \\*stars\\*` and ~~gone~~',
          },
        ],
      },
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(`${sim.url}/`);
    const description = page.locator('.embed-description');
    await description.waitFor();
    const text = (await description.textContent()) ?? '';
    expect(text).toContain('(the old one burnt)');
    expect(text).toContain('*not italic*');
    // Outside code no escape is shown; inside code backslashes stay, as in Discord.
    expect(text).not.toContain('\\(');
    expect(text).not.toContain('\\*not');
    expect(await description.locator('.md-h2').textContent()).toBe('Coil order');
    expect(await description.locator('strong').textContent()).toBe('Ordered');
    expect(await description.locator('em').allTextContents()).toEqual(['right']);
    expect(await description.locator('a').getAttribute('href')).toBe('https://marco.example/coil');
    expect(await description.locator('.md-li').allTextContents()).toEqual(['• flipper coil', '• sleeve']);
    expect(await description.locator('code').textContent()).toBe('keep \\*stars\\*');
    expect(await description.locator('s').textContent()).toBe('gone');
    await page.close();
  });

  it('works on a phone: the channel list folds away, a webhook is created from the page, nothing overflows', async () => {
    const { sim, rest } = await ctx;
    sim.reset();
    const workshop = sim.createChannel({ name: 'workshop' });
    await rest.post(Routes.channelMessages(sim.channelId), {
      body: { embeds: [{ title: '⚠️ AFM', description: `A long report ${'with many words '.repeat(30)}`, fields: [{ name: 'Priority', value: 'Unplayable', inline: true }] }] },
    });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${sim.url}/`);
    await page.locator('.embed').waitFor();
    expect(await page.locator('#sidebar').isVisible()).toBe(false);
    // Messages get the whole width: the embed is far wider than one letter.
    expect((await page.locator('.embed').boundingBox())?.width ?? 0).toBeGreaterThan(250);
    expect(await page.textContent('#persistence')).toContain('Not saved');
    const widths = await checkWidths(page, 'viewer');
    expect(widths.map((w) => w.overflowPx)).toEqual([0, 0]);
    await page.setViewportSize({ width: 390, height: 844 });

    await page.click('#toggle-sidebar');
    await page.locator(`#channels button[data-channel-id="${workshop.id}"]`).click();
    expect(await page.locator('#sidebar').isVisible()).toBe(false);
    expect(await page.textContent('#channel-name')).toBe('workshop');

    await page.click('#toggle-sidebar');
    await page.click('#open-webhook');
    expect(await page.inputValue('#webhook-channel')).toBe(workshop.id);
    await page.fill('#webhook-name', 'Legacy');
    await page.click('#create-webhook');
    await page.locator('#webhook-result').waitFor();
    const url = await page.inputValue('#webhook-url');
    expect(url).toMatch(new RegExp(`^${sim.url}/api/webhooks/\\d{17,20}/`));
    await checkWidths(page, 'viewer-webhook-dialog');
    const res = await fetch(`${url}?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: 'Through the new webhook' }) });
    expect(res.status).toBe(200);
    expect(sim.messages(workshop.id).map((m) => m.content)).toEqual(['Through the new webhook']);
    await page.close();
  });
});
