/**
 * The whole pipeline for browser tests: the simulator, a worker and the web
 * app over a fresh database and a unique Redis prefix, torn down by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { SCREENSHOTS_DIR, waitFor } from '@flipfix/testing';
import { createBotFeatures } from '@flipfix/bot-features';
import { DEFAULT_REDIS_URL } from '@flipfix/config';
import { createTestDatabase, type TestDatabase } from '@flipfix/db';
import { createDiscordRest } from '@flipfix/discord';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { withLegacyWebhooks } from '@flipfix/legacy-webhooks';
import { createLogger } from '@flipfix/logger';
import { type RunningWorker, startWorker } from '@flipfix/worker';
import type { WebConfig } from '../src/app';
import { startTestWeb, type TestWeb } from './helpers';

export interface Stack {
  sim: Simulator;
  database: TestDatabase;
  worker: RunningWorker;
  web: TestWeb;
  close(): Promise<void>;
}

/**
 * Starts the stack. `legacyWebhooks` runs the worker with the legacy webhook
 * path and the bot features, as apps/worker/src/main.ts wires them.
 */
export async function startStack(options: { legacyWebhooks?: boolean; web?: Partial<WebConfig> } = {}): Promise<Stack> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const sim = await startSimulator({ port: 0 });
  const database = await createTestDatabase();
  const prefix = `t-e2e-${randomBytes(5).toString('hex')}`;
  const log = createLogger({ name: 'e2e', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const worker = await startWorker({
    databaseUrl: database.url,
    redis: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
    prefix,
    baseUrl: 'http://localhost:3000',
    discord: { token: sim.token, apiUrl: sim.apiUrl, channelId: sim.channelId, timeoutMs: 3000 },
    log,
    retry: { attempts: 3, backoffMs: 100, jitter: 0 },
    relayPollMs: 200,
    ...(options.legacyWebhooks ? { extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx)) } : {}),
  });
  const web = await startTestWeb({
    database,
    prefix,
    discordRest: createDiscordRest({ token: sim.token, apiUrl: sim.apiUrl, timeoutMs: 3000 }),
    discordToken: sim.token,
    config: { defaultChannelId: sim.channelId, discordCacheMs: 0, simulatorUrl: sim.url, ...options.web },
  });
  return {
    sim,
    database,
    worker,
    web,
    async close() {
      await web.close();
      await worker.close(5000);
      await sim.close();
      await database.drop();
    },
  };
}

/** Resolves when `check` returns a value (polled against a deadline, not a fixed sleep). */
export function until<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  return waitFor(check, { what, timeoutMs, intervalMs: 50 });
}
