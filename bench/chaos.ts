/**
 * `npm run chaos`: a steady stream of domain writes while the pipeline is
 * hurt on purpose, then a count at the simulator of what reached Discord.
 *
 * Timeline (scaled by --seconds, default 90 s of events at --rate 20/s):
 *   1/6  SIGKILL worker process 1, restart it
 *   2/6  Redis "restarted empty": every key of this run's prefix deleted (SCAN + DEL;
 *        other users of this Redis are left alone, so no FLUSHALL)
 *   1/2  the simulator answers 500 to everything for --outage-seconds (30)
 *   2/3  SIGKILL worker process 2, restart it
 * Workers run the production entry (apps/worker/src/main.ts). Reports delivered,
 * duplicated (records with more than one message), lost (records with none by the
 * drain deadline), 429s and invalid requests; exits 1 unless 0 lost and 0 duplicated.
 *
 *   npm run chaos
 *   npm run chaos -- --seconds 30 --rate 10 --outage-seconds 10   # shorter
 *   npm run chaos -- --source flipfix   # against a Flipfix database (its Django tables)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '@flipfix/discord-sim';
import { Arrivals, benchSource, buildWorker, deleteRedisPrefix, formatTable, insertOne, type Metric, ROOT, spawnWorker, until, type WorkerProc, workerEnv } from './lib';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '90' },
    'outage-seconds': { type: 'string', default: '30' },
    'drain-timeout': { type: 'string', default: '300' },
    workers: { type: 'string', default: '2' },
    'channel-limit': { type: 'string', default: '50/1000' },
    source: { type: 'string', default: 'builtin' },
  },
});
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const outageMs = Number(args['outage-seconds']) * 1000;
const drainTimeoutMs = Number(args['drain-timeout']) * 1000;
const workerCount = Math.max(2, Number(args.workers));
const source = benchSource(args.source);
const [chLimit, chWindow] = (args['channel-limit'] ?? '50/1000').split('/').map(Number) as [number, number];

const log = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Chaos runs the production build of the worker.
buildWorker();
const tdb = await source.createDatabase(10);
// Discord's global limit; the channel limit is raised (default 50 per s) so a 20/s
// stream into one channel is not a flood (flood handling is the benchmark's burst).
const sim = await startSimulator({ port: 0, maxMessagesPerChannel: 100_000, rateLimits: { perChannel: { limit: chLimit, windowMs: chWindow } } });
const prefix = `chaos${randomUUID().slice(0, 8)}`;
const stack = { databaseUrl: tdb.url, prefix, sim };
const env = workerEnv(stack, {
  LOG_LEVEL: 'info',
  DELIVERY_BACKOFF_MS: '1000',
  WORKER_LOCK_MS: '5000',
  WORKER_STALLED_INTERVAL_MS: '2000',
  RECONCILE_AFTER_SECONDS: '10',
  ...source.workerEnv,
});
const workers: WorkerProc[] = [];
const start = async (slot: number) => {
  const w = spawnWorker({ env });
  workers[slot] = w;
  await w.ready;
  return w;
};

const machineId = await source.createMachine(tdb, 'Twilight Zone', 'TZ');
const arrivals = new Arrivals(sim);
const commits = new Map<number, number>();
const started = Date.now();
const at = async (fraction: number) => sleep(Math.max(0, started + fraction * seconds * 1000 - Date.now()));
let exitCode = 1;

try {
  await Promise.all(Array.from({ length: workerCount }, (_, i) => start(i)));
  log(`${workerCount} workers up (source ${source.name}); streaming ${rate}/s for ${seconds} s`);
  const t0 = performance.now();
  const n = Math.round(rate * seconds);
  const producer = (async () => {
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(insertOne(tdb.db.pool, machineId, `chaos entry ${i}`, source).then((r) => void commits.set(r.id, r.committedAt)));
    }
    await Promise.all(inflight);
  })();
  const chaos = (async () => {
    await at(1 / 6);
    log('SIGKILL worker 1');
    await workers[0]!.kill();
    await start(0);
    log('worker 1 restarted');
    await at(2 / 6);
    const deleted = await deleteRedisPrefix(prefix);
    log(`Redis restarted empty for this run: ${deleted} keys of ${prefix}:* deleted`);
    await at(1 / 2);
    sim.injectFaults({ outage: { durationMs: outageMs, status: 500 } });
    log(`simulator outage: 500s for ${outageMs / 1000} s`);
    await at(2 / 3);
    log('SIGKILL worker 2');
    await workers[1]!.kill();
    await start(1);
    log('worker 2 restarted');
  })();
  await Promise.all([producer, chaos]);
  log(`stream done: ${commits.size} events committed; draining (deadline ${drainTimeoutMs / 1000} s)`);

  const ids = [...commits.keys()];
  const openDeliveries = () => tdb.db.prisma.delivery.count({ where: { status: { in: ['pending', 'sending'] } } });
  const drained = await until(async () => arrivals.poll().countOf(ids) === ids.length && (await openDeliveries()) === 0, drainTimeoutMs, 500);
  const drainedAt = Date.now();
  // A straggling retry would show up as a duplicate within a few lock periods.
  await sleep(10_000);
  arrivals.poll();

  let lost = 0;
  let duplicated = 0;
  for (const id of ids) {
    const k = arrivals.byRecord.get(id)?.length ?? 0;
    if (k === 0) lost++;
    if (k > 1) duplicated++;
  }
  const stats = sim.stats();
  const ledger = await tdb.db.prisma.delivery.groupBy({ by: ['status'], _count: true });
  const metrics: Metric[] = [
    { scenario: 'chaos', metric: 'events committed', value: ids.length, note: `${rate}/s for ${seconds} s, ${workerCount} worker processes, source ${source.name}` },
    { scenario: 'chaos', metric: 'delivered', value: ids.length - lost, note: drained ? `drained ${Math.round((drainedAt - started) / 1000 - seconds)} s after the stream` : 'NOT drained by the deadline' },
    { scenario: 'chaos', metric: 'lost', value: lost, target: '0', pass: lost === 0 },
    { scenario: 'chaos', metric: 'duplicated', value: duplicated, target: '0', pass: duplicated === 0 },
    { scenario: 'chaos', metric: '429s', value: stats.rateLimited, note: `global ${stats.globalRateLimited}` },
    { scenario: 'chaos', metric: 'invalid requests', value: stats.invalidRequests },
    { scenario: 'chaos', metric: 'requests answered by the outage', value: stats.faultsAnswered },
    { scenario: 'chaos', metric: 'ledger', value: ledger.map((g) => `${g.status} ${g._count}`).join(', ') },
  ];
  process.stdout.write(`\n${formatTable(metrics)}\n`);
  const outDir = path.join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `chaos-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt: new Date(started), config: { rate, seconds, outageMs, workerCount, channelLimit: args['channel-limit'], source: source.name }, metrics }, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(process.cwd(), file)}\n`);
  exitCode = lost === 0 && duplicated === 0 ? 0 : 1;
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await sim.close();
  await tdb.drop();
  await deleteRedisPrefix(prefix);
}
process.exit(exitCode);
