/**
 * Workers on several hosts: three worker processes sharing one Redis and one
 * Postgres, their wall clocks skewed by -2 s, 0 and +2 s (a preload shifts
 * `Date`), against a simulator enforcing Discord's limits (5 messages per
 * 5 s per channel, 50 requests/s per bot). Together they must never draw a
 * 429 and post every event once: the shared limiter runs on Redis's clock.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogEntry, createMachine, createProblemReport, createTestDatabase, type TestDatabase, updateSettings } from '@flipfix/db';
import { startSimulator, type Simulator } from '@flipfix/discord-sim';
import { SKEWED_CLOCK } from '@flipfix/testing';
import { deleteRedisPrefix, embedsOf, waitFor } from './harness';
import { processEnv, processPrefix, spawnWorker, type WorkerProcess } from './process';

const SKEWS_MS = [-2000, 0, 2000];
let tdb: TestDatabase;
let sim: Simulator;
const prefix = processPrefix();
const procs: WorkerProcess[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  // Discord's limits, as the simulator enforces them by default.
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await sim?.close();
  await tdb?.drop();
  await deleteRedisPrefix(prefix);
});

it('the preload skews a process clock by CLOCK_SKEW_MS', () => {
  const clocksOf = (skew: number): number[] => {
    const before = Date.now();
    const out = spawnSync(process.execPath, ['--import', SKEWED_CLOCK, '-e', 'process.stdout.write(JSON.stringify([Date.now(), new Date().getTime()]))'], {
      env: { ...process.env, CLOCK_SKEW_MS: String(skew) },
      encoding: 'utf8',
    }).stdout;
    return (JSON.parse(out) as number[]).map((t) => t - before);
  };
  for (const offset of clocksOf(5000)) expect(offset).toBeGreaterThanOrEqual(5000);
  for (const offset of clocksOf(-5000)) expect(offset).toBeLessThan(-4000);
});

it('three skewed hosts post a burst into two channels with 0 × 429, each event once', async () => {
  const second = sim.createChannel({ name: 'problems' });
  await updateSettings(tdb.db.prisma, { events: { problem_report_created: { enabled: true, channelId: second.id } } }, 'test');
  for (const skew of SKEWS_MS) {
    procs.push(
      spawnWorker(
        {
          ...processEnv({ databaseUrl: tdb.url, prefix, sim }),
          DELIVERY_BACKOFF_MS: '200',
          CLOCK_SKEW_MS: String(skew),
        },
        [SKEWED_CLOCK],
      ),
    );
  }
  await Promise.all(procs.map((p) => p.ready));

  const machine = await createMachine(tdb.db.prisma, { name: 'Monster Bash', shortName: 'MB' });
  const entries = Array.from({ length: 60 }, (_, i) => `hosts-log-${i}-end`);
  const reports = Array.from({ length: 20 }, (_, i) => `hosts-report-${i}-end`);
  await Promise.all([
    (async () => {
      for (const text of entries) await createLogEntry(tdb.db.prisma, { machineId: machine.id, text });
    })(),
    (async () => {
      for (const description of reports) await createProblemReport(tdb.db.prisma, { machineId: machine.id, description });
    })(),
  ]);

  const postedIn = (channelId: string) => sim.messages(channelId).flatMap((m) => embedsOf(m).map((e) => e.description ?? ''));
  const counts = () => ({
    entries: entries.map((t) => postedIn(sim.channelId).filter((d) => d.includes(t)).length),
    reports: reports.map((t) => postedIn(second.id).filter((d) => d.includes(t)).length),
  });
  await waitFor(
    () => {
      const c = counts();
      return [...c.entries, ...c.reports].every((n) => n >= 1);
    },
    { what: 'every event posted', timeoutMs: 60_000, intervalMs: 100 },
  ).catch(async (err) => {
    const ledger = await tdb.db.prisma.delivery.groupBy({ by: ['status', 'lastError'], _count: true });
    const c = counts();
    const missing = { entries: c.entries.filter((n) => n === 0).length, reports: c.reports.filter((n) => n === 0).length };
    throw new Error(`${err}\n${JSON.stringify({ missing, ledger, stats: sim.stats() })}\n${procs.map((p) => p.output.join('').slice(-1500)).join('\n---\n')}`);
  });
  await waitFor(async () => (await tdb.db.prisma.delivery.count({ where: { status: { not: 'delivered' } } })) === 0, {
    what: 'the ledger settled',
    timeoutMs: 30_000,
  });
  expect(counts()).toEqual({ entries: entries.map(() => 1), reports: reports.map(() => 1) });
  expect(sim.stats().rateLimited).toBe(0);
  expect(sim.stats().invalidRequests).toBe(0);
}, 150_000);
