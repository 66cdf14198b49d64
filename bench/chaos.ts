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
 *
 * With --redis sentinel|cluster the workers use a real Sentinel set (primary +
 * replica + 3 sentinels) or a 6-node Cluster started from Debian's binaries on
 * free loopback ports, and the timeline is instead:
 *   1/3  SIGKILL the Redis primary (on a Cluster, the one serving the run's
 *        hash-tagged prefix); the replica is promoted
 *   1/2  SIGKILL worker process 1, restart it
 *
 * Workers run the production build (apps/worker/dist/main.mjs). Reports delivered,
 * duplicated (records with more than one message), lost (records with none by the
 * drain deadline), 429s, invalid requests and the longest pause in posting while
 * the stream ran; exits 1 unless 0 lost and 0 duplicated.
 *
 *   npm run chaos
 *   npm run chaos -- --seconds 30 --rate 10 --outage-seconds 10   # shorter
 *   npm run chaos -- --redis sentinel                              # Redis failover
 *   npm run chaos -- --redis cluster --seconds 60
 *   npm run chaos -- --source flipfix   # against a Flipfix database (its Django tables)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '@flipfix/discord-sim';
import type { RedisTopology } from '@flipfix/config';
import { deletePrefix } from '@flipfix/queue';
import { startRedisCluster, startRedisSentinelSet } from '@flipfix/testing';
import { Arrivals, benchSource, buildWorker, formatTable, insertOne, type Metric, REDIS_URL, ROOT, spawnWorker, until, type WorkerProc, workerEnv } from './lib';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '90' },
    'outage-seconds': { type: 'string', default: '30' },
    'drain-timeout': { type: 'string', default: '300' },
    workers: { type: 'string', default: '2' },
    'channel-limit': { type: 'string', default: '50/1000' },
    redis: { type: 'string', default: 'standalone' },
    source: { type: 'string', default: 'builtin' },
  },
});
const redisMode = args.redis ?? 'standalone';
if (!['standalone', 'sentinel', 'cluster'].includes(redisMode)) throw new Error('--redis must be standalone, sentinel or cluster');
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
// Hash-tagged, as QUEUE_PREFIX becomes in the worker: every key of the run in one Cluster slot.
const prefix = `{chaos${randomUUID().slice(0, 8)}}`;
const stack = { databaseUrl: tdb.url, prefix, sim };

/** The Redis the workers use, and how to take its primary down. */
interface RedisRig {
  topology: RedisTopology;
  env: Record<string, string>;
  killPrimary(): Promise<{ killedPort: number; newPrimaryPort: number; failoverMs: number }>;
  stop(): Promise<void>;
}
async function startRedisRig(): Promise<RedisRig | null> {
  const list = (nodes: { host: string; port: number }[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (redisMode === 'sentinel') {
    const set = await startRedisSentinelSet();
    return {
      topology: { kind: 'sentinel', sentinels: set.sentinels, name: set.name },
      // REDIS_URL emptied: the worker accepts one topology only.
      env: { REDIS_URL: '', REDIS_SENTINELS: list(set.sentinels), REDIS_SENTINEL_NAME: set.name },
      killPrimary: () => set.killPrimary(),
      stop: () => set.stop(),
    };
  }
  if (redisMode === 'cluster') {
    const cluster = await startRedisCluster();
    return {
      topology: { kind: 'cluster', nodes: cluster.nodes },
      env: { REDIS_URL: '', REDIS_CLUSTER_NODES: list(cluster.nodes) },
      killPrimary: () => cluster.killPrimaryFor(prefix),
      stop: () => cluster.stop(),
    };
  }
  return null;
}
const rig = await startRedisRig();
const redisTarget = rig?.topology ?? REDIS_URL;
const env = workerEnv(stack, {
  ...rig?.env,
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
/** When the Redis primary was killed and when the sentinels / cluster had promoted another. */
let failover: { killedAt: number; failoverMs: number } | null = null;

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
  const redisChaos = async () => {
    await at(1 / 3);
    const killedAt = Date.now();
    log('SIGKILL the Redis primary');
    const f = await rig!.killPrimary();
    failover = { killedAt, failoverMs: f.failoverMs };
    log(`Redis primary :${f.killedPort} killed; :${f.newPrimaryPort} promoted after ${f.failoverMs} ms`);
    await at(1 / 2);
    log('SIGKILL worker 1');
    await workers[0]!.kill();
    await start(0);
    log('worker 1 restarted');
  };
  const standaloneChaos = async () => {
    await at(1 / 6);
    log('SIGKILL worker 1');
    await workers[0]!.kill();
    await start(0);
    log('worker 1 restarted');
    await at(2 / 6);
    const deleted = await deletePrefix(redisTarget, prefix);
    log(`Redis restarted empty for this run: ${deleted} keys of ${prefix}:* deleted`);
    await at(1 / 2);
    sim.injectFaults({ outage: { durationMs: outageMs, status: 500 } });
    log(`simulator outage: 500s for ${outageMs / 1000} s`);
    await at(2 / 3);
    log('SIGKILL worker 2');
    await workers[1]!.kill();
    await start(1);
    log('worker 2 restarted');
  };
  await Promise.all([producer, rig ? redisChaos() : standaloneChaos()]);
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
  // Longest gap between two consecutive messages while events were being committed.
  const times = arrivals.times.filter((t) => t >= started && t <= started + seconds * 1000).sort((a, b) => a - b);
  let longestPauseMs = 0;
  for (let i = 1; i < times.length; i++) longestPauseMs = Math.max(longestPauseMs, times[i]! - times[i - 1]!);
  const failed = failover as { killedAt: number; failoverMs: number } | null;
  // The pause the failover caused: the longest gap between messages from just before the kill
  // to 10 s after the new primary; posting resumed at its end.
  let resumedMs = Number.NaN;
  if (failed) {
    let gap = 0;
    for (let i = 1; i < times.length; i++) {
      const [before, after] = [times[i - 1]!, times[i]!];
      if (after < failed.killedAt || before > failed.killedAt + failed.failoverMs + 10_000) continue;
      if (after - before > gap) [gap, resumedMs] = [after - before, after - failed.killedAt];
    }
  }
  const stats = sim.stats();
  const ledger = await tdb.db.prisma.delivery.groupBy({ by: ['status'], _count: true });
  const metrics: Metric[] = [
    { scenario: 'chaos', metric: 'events committed', value: ids.length, note: `${rate}/s for ${seconds} s, ${workerCount} worker processes, Redis ${redisMode}, source ${source.name}` },
    { scenario: 'chaos', metric: 'delivered', value: ids.length - lost, note: drained ? `drained ${Math.round((drainedAt - started) / 1000 - seconds)} s after the stream` : 'NOT drained by the deadline' },
    { scenario: 'chaos', metric: 'lost', value: lost, target: '0', pass: lost === 0 },
    { scenario: 'chaos', metric: 'duplicated', value: duplicated, target: '0', pass: duplicated === 0 },
    { scenario: 'chaos', metric: '429s', value: stats.rateLimited, target: '0', pass: stats.rateLimited === 0, note: `global ${stats.globalRateLimited}` },
    { scenario: 'chaos', metric: 'longest pause in posting', value: longestPauseMs / 1000, unit: 's', note: 'between two messages while the stream ran' },
    ...(failed
      ? [
          { scenario: 'chaos', metric: 'Redis failover', value: failed.failoverMs / 1000, unit: 's', note: `${redisMode}: SIGKILL of the primary → replica promoted` },
          {
            scenario: 'chaos',
            metric: 'posting resumed after the kill',
            value: resumedMs / 1000,
            unit: 's',
            target: '≤ 10 s after the failover',
            pass: resumedMs - failed.failoverMs <= 10_000,
            note: 'end of the longest pause around the failover',
          },
        ]
      : []),
    { scenario: 'chaos', metric: 'invalid requests', value: stats.invalidRequests },
    ...(rig ? [] : [{ scenario: 'chaos', metric: 'requests answered by the outage', value: stats.faultsAnswered }]),
    { scenario: 'chaos', metric: 'ledger', value: ledger.map((g) => `${g.status} ${g._count}`).join(', ') },
  ];
  process.stdout.write(`\n${formatTable(metrics)}\n`);
  const outDir = path.join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `chaos-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt: new Date(started), config: { rate, seconds, outageMs, workerCount, channelLimit: args['channel-limit'], redis: redisMode, source: source.name }, metrics }, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(process.cwd(), file)}\n`);
  exitCode = lost === 0 && duplicated === 0 ? 0 : 1;
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await sim.close();
  await tdb.drop();
  if (rig) await rig.stop();
  else await deletePrefix(redisTarget, prefix);
}
process.exit(exitCode);
