/**
 * A person clicks Claim on the simulator's viewer page, in Chromium: the
 * signed interaction reaches the endpoint, the report is claimed, the worker
 * edits the post, and the page shows "Claimed by" with the Claim button disabled.
 */
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '@flipfix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMachine, createProblemReport, getProblemReport } from '@flipfix/db';
import { settled, startFeatureStack, type FeatureStack } from './stack';

const SCREENS = '/tmp/flipfix-screens';
if (!hasChromium) console.warn(`claim e2e skipped: ${CHROMIUM} is missing`);

describe.skipIf(!hasChromium)('Claim on the viewer page', () => {
  let browser: Browser;
  let stack: FeatureStack;

  beforeAll(async () => {
    stack = await startFeatureStack({ interactions: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('clicking Claim shows "Claimed by" on the post', async () => {
    const machine = await createMachine(stack.db.prisma, { name: 'The Addams Family', shortName: 'TAF' });
    const pr = await createProblemReport(stack.db.prisma, {
      machineId: machine.id,
      description: 'Thing does not grab the ball',
      priority: 'major',
      reporterName: 'Visitor Val',
    });
    await settled(stack.db, 'problem_report_created', pr.id);

    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.setDefaultTimeout(10_000);
    await page.goto(`${stack.sim.url}/#${stack.sim.channelId}`);
    const claim = page.locator(`button.btn[data-custom-id="claim:problem_report:${pr.id}"]`);
    await claim.waitFor();
    expect(await page.locator('.field-name', { hasText: 'Claimed by' }).count()).toBe(0);
    expect(await page.locator('a.btn', { hasText: 'View in Flipfix' }).getAttribute('href')).toBe(`http://flipfix.test/problem-reports/${pr.id}`);

    await claim.click();
    // The worker's edit arrives through the page's own polling.
    const field = page.locator('.field', { has: page.locator('.field-name', { hasText: 'Claimed by' }) });
    await field.waitFor();
    expect(await field.locator('.field-value').textContent()).toBe('Museum Volunteer');
    await page.locator(`button.btn[data-custom-id="claim:problem_report:${pr.id}"][disabled]`).waitFor();
    await page.locator('.ephemeral', { hasText: `You claimed problem report #${pr.id}.` }).waitFor();
    expect((await getProblemReport(stack.db.prisma, pr.id)).claimedByName).toBe('Museum Volunteer');

    mkdirSync(SCREENS, { recursive: true });
    await page.screenshot({ path: `${SCREENS}/claim-clicked.png` });
    await page.close();
  });
});
