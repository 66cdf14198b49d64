/**
 * Test stack: a fresh database, the simulator on a random port, a worker
 * with the bot features on a unique Redis prefix, and (optionally) the
 * interactions router on a small Express app, all real.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import type { APIEmbed } from 'discord-api-types/v10';
import { SIM_DEFAULTS } from '@flipfix/config';
import { createTestDatabase, type Db, updateSettings, type SettingsPatch } from '@flipfix/db';
import { startSimulator, type SimOptions, type Simulator } from '@flipfix/discord-sim';
import { createLogger } from '@flipfix/logger';
import { deletePrefix } from '@flipfix/queue';

import { waitFor } from '@flipfix/testing';

export { waitFor };
import { startWorker, type RunningWorker, type WorkerOptions } from '@flipfix/worker';
import { type BotFeatures, type BotFeaturesOptions, createBotFeatures } from '../src/features';
import { createInteractionsRouter, type InteractionsDeps } from '../src/interactions';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BASE_URL = 'http://flipfix.test';
const log = createLogger({ name: 'bot-features-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface FeatureStack {
  db: Db;
  databaseUrl: string;
  sim: Simulator;
  prefix: string;
  redis: Redis;
  worker: RunningWorker;
  features: () => BotFeatures;
  /** Base URL of the web app holding the interactions router, when started. */
  webUrl: string | null;
  /** Starts a worker like the first one (after the first was closed, or alongside it). */
  startWorker(): Promise<RunningWorker>;
  settings(patch: SettingsPatch): Promise<void>;
  close(): Promise<void>;
}

export interface FeatureStackOptions {
  sim?: SimOptions;
  features?: BotFeaturesOptions;
  worker?: Partial<WorkerOptions>;
  /** Start the interactions endpoint on an Express app (port 0) and point the simulator at it. */
  interactions?: Partial<InteractionsDeps> | boolean;
}

export async function startFeatureStack(options: FeatureStackOptions = {}): Promise<FeatureStack> {
  const tdb = await createTestDatabase();
  const sim = await startSimulator({ port: 0, rateLimits: { perChannel: null, global: null, perRoute: null }, ...options.sim });
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const redis = new Redis(REDIS_URL);
  let features: BotFeatures | null = null;
  const workerOptions: WorkerOptions = {
    databaseUrl: tdb.url,
    redis: REDIS_URL,
    prefix,
    baseUrl: BASE_URL,
    discord: { token: sim.token, apiUrl: sim.apiUrl, channelId: sim.channelId, timeoutMs: 5000 },
    log,
    retry: { attempts: 5, backoffMs: 100, jitter: 0.5 },
    rateLimits: { defaultChannel: null, global: null },
    lockDurationMs: 3000,
    stalledIntervalMs: 1000,
    reconcileAfterMs: 3000,
    reconcileIntervalMs: 1000,
    relayPollMs: 250,
    extend: (ctx) => {
      features = createBotFeatures(ctx, options.features);
      return features;
    },
    ...options.worker,
  };
  const workers: RunningWorker[] = [];
  const live = new Set<RunningWorker>();
  const start = async () => {
    const w = await startWorker(workerOptions);
    workers.push(w);
    live.add(w);
    const close = w.close;
    w.close = (deadlineMs) => {
      live.delete(w);
      return close(deadlineMs);
    };
    return w;
  };
  const worker = await start();

  let server: Server | null = null;
  let webUrl: string | null = null;
  if (options.interactions) {
    const app = express();
    app.use(
      createInteractionsRouter({
        db: tdb.db,
        publicKey: SIM_DEFAULTS.publicKey,
        redis,
        log,
        baseUrl: BASE_URL,
        discordApiUrl: sim.apiUrl,
        keyPrefix: prefix,
        ...(typeof options.interactions === 'object' ? options.interactions : {}),
      }),
    );
    // A JSON parser after the router, as a web app would have for its other routes.
    app.use(express.json());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    webUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sim.configure({ interactionsUrl: `${webUrl}/discord/interactions` });
  }

  return {
    db: tdb.db,
    databaseUrl: tdb.url,
    sim,
    prefix,
    redis,
    worker,
    features: () => {
      if (!features) throw new Error('features not started');
      return features;
    },
    webUrl,
    startWorker: start,
    async settings(patch) {
      await updateSettings(tdb.db.prisma, patch, 'test');
      // Every worker reloads on NOTIFY; wait until they all see this version.
      const version = (await tdb.db.prisma.settings.findUniqueOrThrow({ where: { id: 1 } })).version;
      await waitFor(() => [...live].every((w) => w.settings.current.version >= version), { what: 'settings reloaded' });
    },
    async close() {
      server?.close();
      for (const w of workers) await w.close();
      await sim.close();
      await tdb.drop();
      await deletePrefix(REDIS_URL, prefix);
      await redis.quit();
    },
  };
}



/** A stored simulator message's embeds, typed as Discord's. */
export function embedsOf(message: { embeds: unknown[] } | undefined): APIEmbed[] {
  return (message?.embeds ?? []) as APIEmbed[];
}

/** Ledger rows of one record's event type, oldest first, once none is pending or sending. */
export async function settled(db: Db, type: string, entityId: number, what = `${type} #${entityId}`) {
  return waitFor(
    async () => {
      const rows = await db.prisma.delivery.findMany({ where: { event: { type, entityId } }, orderBy: { createdAt: 'asc' } });
      return rows.length > 0 && rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : undefined;
    },
    { what: `${what} settled` },
  );
}

/** Button labels of a message, with their disabled flag. */
export function buttonsOf(message: { components?: unknown[] } | undefined): { label: string; disabled: boolean; customId?: string; url?: string }[] {
  const out: { label: string; disabled: boolean; customId?: string; url?: string }[] = [];
  for (const row of (message?.components ?? []) as { components?: Record<string, unknown>[] }[]) {
    for (const b of row.components ?? []) {
      out.push({
        label: String(b.label ?? ''),
        disabled: b.disabled === true,
        ...(typeof b.custom_id === 'string' ? { customId: b.custom_id } : {}),
        ...(typeof b.url === 'string' ? { url: b.url } : {}),
      });
    }
  }
  return out;
}
