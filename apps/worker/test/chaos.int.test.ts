/**
 * Chaos, small: a stream of domain writes while a worker process is
 * SIGKILLed and restarted, Redis loses every key of this run's prefix (as if
 * it restarted empty; other users of this Redis keep theirs) and the
 * simulator answers 500 for a few seconds. Every record must reach the
 * channel exactly once. `npm run chaos` is the full-size version.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMachine, createTestDatabase, type TestDatabase } from '@flipfix/db';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { deleteRedisPrefix, REDIS_URL, waitFor } from './harness';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BASE_URL = 'http://chaos.test';

let tdb: TestDatabase;
let sim: Simulator;
// Hash-tagged, as the worker process uses QUEUE_PREFIX.
const prefix = `{t${randomUUID().slice(0, 8)}}`;
const children: ChildProcess[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  sim = await startSimulator({ port: 0, rateLimits: { perChannel: { limit: 50, windowMs: 1000 } } });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sim?.close();
  await tdb?.drop();
  await deleteRedisPrefix(prefix);
});

/**
 * The production entry as one process (`node --import tsx`), so SIGKILL
 * reaches the worker itself rather than a wrapper that would leave it running.
 */
function startWorker(): { child: ChildProcess; ready: Promise<void>; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/worker/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: tdb.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      APP_BASE_URL: BASE_URL,
      DISCORD_API_URL: sim.apiUrl,
      DISCORD_BOT_TOKEN: sim.token,
      DISCORD_CHANNEL_ID: sim.channelId,
      DELIVERY_BACKOFF_MS: '200',
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      RECONCILE_AFTER_SECONDS: '2',
      WORKER_CONCURRENCY: '10',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('worker started')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started:\n${output.join('').slice(-2000)}`)));
  });
  return { child, ready, exited };
}

/** Messages per log entry id at the simulator, read from each embed's record link. */
function messagesPerRecord(): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of sim.messages(sim.channelId)) {
    for (const e of m.embeds as { url?: string }[]) {
      const match = /\/log-entries\/(\d+)$/.exec(e.url ?? '');
      if (match) counts.set(Number(match[1]), (counts.get(Number(match[1])) ?? 0) + 1);
    }
  }
  return counts;
}

it('delivers every record exactly once through a SIGKILL, an emptied Redis and an outage', async () => {
  const machine = await createMachine(tdb.db.prisma, { name: 'Funhouse', shortName: 'FH' });
  const first = startWorker();
  const second = startWorker();
  await Promise.all([first.ready, second.ready]);

  const N = 150;
  const ids: number[] = [];
  const started = Date.now();
  const produce = (async () => {
    for (let i = 0; i < N; i++) {
      const due = started + i * 100 - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      const { rows } = await tdb.db.pool.query<{ id: number }>('INSERT INTO log_entries (machine_id, text) VALUES ($1, $2) RETURNING id', [
        machine.id,
        `chaos entry ${i}`,
      ]);
      ids.push(rows[0]!.id);
    }
  })();

  // Each fault waits for evidence that the pipeline is busy, not for a fixed time.
  await waitFor(() => ids.length >= 30 && sim.messages(sim.channelId).length >= 10, { timeoutMs: 20_000, what: 'first posts' });
  first.child.kill('SIGKILL');
  await first.exited;
  const restarted = startWorker();

  await waitFor(() => ids.length >= 60, { timeoutMs: 20_000, what: '60 events written' });
  await deleteRedisPrefix(prefix);

  await waitFor(() => ids.length >= 90, { timeoutMs: 20_000, what: '90 events written' });
  sim.injectFaults({ outage: { durationMs: 5000, status: 500 } });
  await restarted.ready;
  await produce;

  await waitFor(
    async () =>
      messagesPerRecord().size === N && (await tdb.db.prisma.delivery.count({ where: { status: { in: ['pending', 'sending'] } } })) === 0,
    { timeoutMs: 40_000, intervalMs: 200, what: 'every record delivered' },
  ).catch(async (err) => {
    const ledger = await tdb.db.prisma.delivery.groupBy({ by: ['status'], _count: true });
    const events = await tdb.db.prisma.outboxEvent.groupBy({ by: ['status'], _count: true });
    throw new Error(`${err}\n${messagesPerRecord().size}/${N} at the simulator; ledger ${JSON.stringify(ledger)}; outbox ${JSON.stringify(events)}`);
  });

  const counts = messagesPerRecord();
  const lost = ids.filter((id) => !counts.has(id));
  const duplicated = ids.filter((id) => (counts.get(id) ?? 0) > 1);
  expect(sim.stats().faultsAnswered, 'the outage was hit').toBeGreaterThan(0);
  expect(lost, 'lost records').toEqual([]);
  expect(duplicated, 'duplicated records').toEqual([]);
  // Fewer messages than records is fine: a backlog after the outage is packed into batches.
  expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(N);
  expect(sim.stats().rateLimited).toBe(0);

  for (const w of [second, restarted]) w.child.kill('SIGTERM');
  await Promise.all([second.exited, restarted.exited]);
}, 90_000);
