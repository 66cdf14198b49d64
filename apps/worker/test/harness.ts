/**
 * Test harness: a fresh database, a simulator on a random port and a worker
 * on a unique Redis prefix, all real, torn down afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { APIEmbed } from 'discord-api-types/v10';
import { createTestDatabase, type Db, type TestDatabase } from '@flipfix/db';
import { startSimulator, type SimOptions, type Simulator } from '@flipfix/discord-sim';
import { createLogger } from '@flipfix/logger';
import { deletePrefix, type RedisTarget } from '@flipfix/queue';

import { waitFor } from '@flipfix/testing';

export { waitFor };
import { startWorker, type RunningWorker, type WorkerOptions } from '../src/worker';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BASE_URL = 'http://flipfix.test';

export interface Stack {
  db: Db;
  databaseUrl: string;
  sim: Simulator;
  worker: RunningWorker;
  prefix: string;
  /** Worker options used, to start another worker process-alike on the same stack. */
  workerOptions: WorkerOptions;
  close(): Promise<void>;
}

export interface StackOptions {
  /** The database to run against (default: a fresh one with our migrations); pair with `worker.source`. */
  database?: () => Promise<TestDatabase>;
  sim?: SimOptions;
  /** A Sentinel set or Cluster instead of the standalone REDIS_URL (the prefix is then hash-tagged). */
  redis?: RedisTarget;
  /** The worker's DATABASE_URL from the test database's (e.g. through PgBouncer). */
  databaseVia?: (directUrl: string) => string;
  worker?: Partial<WorkerOptions>;
}

/** Rate limits off at the simulator and in the worker (rate limiting has its own tests). */
export const NO_RATE_LIMITS: StackOptions = {
  sim: { rateLimits: { perChannel: null, global: null } },
  worker: { rateLimits: { defaultChannel: null, global: null } },
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const tdb = await (options.database ?? createTestDatabase)();
  const sim = await startSimulator({ port: 0, ...options.sim });
  const redis = options.redis ?? REDIS_URL;
  const prefix = options.redis ? `{t${randomUUID().slice(0, 8)}}` : `t${randomUUID().slice(0, 8)}`;
  const workerOptions: WorkerOptions = {
    databaseUrl: options.databaseVia ? options.databaseVia(tdb.url) : tdb.url,
    redis,
    prefix,
    baseUrl: BASE_URL,
    discord: { token: sim.token, apiUrl: sim.apiUrl, channelId: sim.channelId, timeoutMs: 5000 },
    log: createLogger({ name: 'worker-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    retry: { attempts: 5, backoffMs: 100, jitter: 0.5 },
    lockDurationMs: 3000,
    stalledIntervalMs: 1000,
    reconcileAfterMs: 3000,
    reconcileIntervalMs: 1000,
    relayPollMs: 250,
    ...options.worker,
  };
  const worker = await startWorker(workerOptions);
  return {
    db: tdb.db,
    databaseUrl: tdb.url,
    sim,
    worker,
    prefix,
    workerOptions,
    async close() {
      await worker.close();
      await sim.close();
      await tdb.drop();
      await deletePrefix(redis, prefix);
    },
  };
}

/** Removes every key under a test prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  await deletePrefix(REDIS_URL, prefix);
}


/** Ledger rows of an event type, newest first. */
export function deliveriesOf(db: Db, where: { type?: string; entityId?: number } = {}) {
  return db.prisma.delivery.findMany({
    where: { event: { ...(where.type ? { type: where.type } : {}), ...(where.entityId ? { entityId: where.entityId } : {}) } },
    include: { event: true },
    orderBy: { createdAt: 'asc' },
  });
}

/** Waits until the ledger rows of a record's event are all finished (none pending or sending); returns them. */
export function settledDeliveries(db: Db, type: string, entityId: number) {
  return waitFor(
    async () => {
      const rows = await deliveriesOf(db, { type, entityId });
      return rows.length > 0 && rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : undefined;
    },
    { what: `${type} #${entityId} settled` },
  );
}

/** A stored simulator message's embeds, typed as Discord's. */
export function embedsOf(message: { embeds: unknown[] } | undefined): APIEmbed[] {
  return (message?.embeds ?? []) as APIEmbed[];
}
