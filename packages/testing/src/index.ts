/**
 * Test support shared by every workspace's integration and browser tests:
 * polling a condition against a deadline (never a fixed sleep), Debian's
 * Chromium for playwright-core, and real Redis Sentinel / Cluster and
 * PgBouncer rigs started from Debian's binaries.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

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
