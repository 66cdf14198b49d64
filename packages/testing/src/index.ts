/**
 * Test support shared by every workspace's integration and browser tests:
 * polling a condition against a deadline (never a fixed sleep), Debian's
 * Chromium for playwright-core, and real Redis Sentinel / Cluster and
 * PgBouncer rigs started from Debian's binaries.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export * from './wait';
export * from './processes';
export * from './redis-rigs';
export * from './pgbouncer';

/**
 * Path of a preload that skews a process's wall clock by `CLOCK_SKEW_MS`:
 * `node --import <SKEWED_CLOCK> …` runs it as if on a host whose clock drifted.
 */
export const SKEWED_CLOCK = fileURLToPath(new URL('./skewed-clock.mjs', import.meta.url));

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background network). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The widths every page is checked at: a laptop and a phone. */
export const PAGE_WIDTHS = [1280, 390] as const;

/** Where browser tests put their screenshots: `screenshots/` at the repository root (git-ignored). */
export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../../screenshots/', import.meta.url));

/** How a page fits at one width: pixels it is wider than the window (0 when nothing overflows). */
export interface WidthCheck {
  width: number;
  overflowPx: number;
}

/**
 * Shows the page at each of {@link PAGE_WIDTHS}, measures horizontal overflow
 * and saves a full-page screenshot `<name>-<width>.png`, then restores the
 * first width. The caller asserts on the result (every `overflowPx` 0).
 */
export async function checkWidths(page: Page, name: string): Promise<WidthCheck[]> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const results: WidthCheck[] = [];
  for (const width of PAGE_WIDTHS) {
    await page.setViewportSize({ width, height: width > 600 ? 900 : 844 });
    // Evaluated in the page, where `document` exists; this package compiles without DOM types.
    const overflowPx = (await page.evaluate('Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth')) as number;
    results.push({ width, overflowPx: Math.max(0, overflowPx) });
    await page.screenshot({ path: `${SCREENSHOTS_DIR}${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: PAGE_WIDTHS[0], height: 900 });
  return results;
}
