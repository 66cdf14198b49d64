/**
 * `npm run bench`: every scenario of the throughput issue against the
 * simulator, in one run. Prints a table and writes the figures as JSON to
 * bench/results/<timestamp>.json.
 *
 *   npm run bench                              # everything, full size (about 8-10 minutes)
 *   npm run bench -- --quick                   # small sizes, about 2 minutes
 *   npm run bench -- --only latency,burst      # some scenarios
 *   npm run bench -- --help                    # every flag
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase, updateSettings } from '@flipfix/db';
import { type SimOptions, type Simulator, startSimulator } from '@flipfix/discord-sim';
import { DEFAULT_RETRY, deliveryJobId, enqueue, JOBS, openQueue, QUEUES } from '@flipfix/queue';
import { type PgBouncerRig, startPgBouncer } from '@flipfix/testing';
import {
  Arrivals,
  BASE_URL,
  benchSource,
  deleteRedisPrefix,
  formatTable,
  insertMany,
  insertOne,
  median,
  type Metric,
  percentile,
  REDIS_URL,
  readCpuMs,
  readRss,
  readXacts,
  ROOT,
  round,
  spawnWorker,
  until,
  type WorkerProc,
  workerEnv,
  buildWorker,
} from './lib';
import { runNaive } from './naive';

const SCENARIOS = ['latency', 'throughput', 'rss', 'naive', 'burst', 'ceiling', 'pgbouncer'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'latency-seconds': { type: 'string' },
    'latency-rates': { type: 'string' },
    'throughput-events': { type: 'string' },
    'throughput-workers': { type: 'string' },
    'burst-events': { type: 'string' },
    'burst-workers': { type: 'string' },
    'burst-timeout': { type: 'string' },
    'ceiling-one': { type: 'string' },
    'ceiling-channels': { type: 'string' },
    'ceiling-per-channel': { type: 'string' },
    'ceiling-workers': { type: 'string' },
    'naive-events': { type: 'string' },
    'rss-events': { type: 'string' },
    'log-level': { type: 'string' },
    'cpu-prof': { type: 'string' },
    timeline: { type: 'boolean', default: false },
    source: { type: 'string', default: 'builtin' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`npm run bench -- [flags]
  --quick                   small sizes (latency 5 s, 2,000 events, burst 200, naive 20, rss 2,000)
  --only <list>             comma-separated: ${SCENARIOS.join(', ')}
  --latency-seconds <s>     per rate (15)
  --latency-rates <list>    events/s (10,100)
  --throughput-events <n>   (10000)
  --throughput-workers <l>  worker processes per run (1,3)
  --burst-events <n>        one channel, Discord's limits on (1000)
  --burst-workers <l>       (1,3)
  --burst-timeout <s>       give up draining after this long and report the rate so far (300)
  --only pgbouncer          latency at 10 events/s with the worker behind PgBouncer (--latency-seconds)
  --ceiling-one <n>         ceiling: events of the one-channel burst (500)
  --ceiling-channels <n>    ceiling: channels of the spread burst (20)
  --ceiling-per-channel <n> ceiling: events per channel of the spread burst (250)
  --ceiling-workers <l>     ceiling: worker processes, clocks skewed by up to ±2 s (1,3)
  --naive-events <n>        posts the naive baseline makes before extrapolating; 0 = all (100)
  --rss-events <n>          jobs queued while RSS is read (10000)
  --log-level <level>       worker LOG_LEVEL (warn)
  --cpu-prof <dir>          V8 CPU profile of every worker process, written on exit
  --timeline                throughput: print relayed / claimed / arrived per 500 ms
  --source <name>           builtin (our tables) or flipfix (a Flipfix database's tables) (builtin)
`);
  process.exit(0);
}

const quick = args.quick ?? false;
const num = (v: string | undefined, full: number, small: number) => (v === undefined ? (quick ? small : full) : Number(v));
const list = (v: string | undefined, dflt: number[]) => (v === undefined ? dflt : v.split(',').map(Number));
const config = {
  only: new Set<Scenario>((args.only?.split(',') as Scenario[] | undefined) ?? SCENARIOS),
  latencySeconds: num(args['latency-seconds'], 15, 5),
  latencyRates: list(args['latency-rates'], [10, 100]),
  throughputEvents: num(args['throughput-events'], 10_000, 2_000),
  throughputWorkers: list(args['throughput-workers'], [1, 3]),
  burstEvents: num(args['burst-events'], 1000, 200),
  burstWorkers: list(args['burst-workers'], [1, 3]),
  burstTimeoutS: num(args['burst-timeout'], 300, 120),
  naiveEvents: num(args['naive-events'], 100, 20),
  ceilingOne: num(args['ceiling-one'], 500, 200),
  ceilingChannels: num(args['ceiling-channels'], 20, 20),
  ceilingPerChannel: num(args['ceiling-per-channel'], 250, 100),
  ceilingWorkers: list(args['ceiling-workers'], [1, 3]),
  rssEvents: num(args['rss-events'], 10_000, 2_000),
  logLevel: args['log-level'] ?? 'warn',
  cpuProfDir: args['cpu-prof'] ? path.resolve(args['cpu-prof']) : undefined,
  timeline: args.timeline ?? false,
  source: benchSource(args.source),
};
for (const s of config.only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);

const NO_LIMITS: NonNullable<SimOptions['rateLimits']> = { perChannel: null, global: null, perRoute: null };

/** A fresh database, simulator and Redis prefix for one scenario. */
interface Stack {
  tdb: TestDatabase;
  databaseUrl: string;
  sim: Simulator;
  prefix: string;
  machineId: number;
  workers: WorkerProc[];
  startWorkers(n: number, env?: Record<string, string>, clockSkewsMs?: number[]): Promise<WorkerProc[]>;
  close(): Promise<void>;
}

async function openStack(sim: SimOptions): Promise<Stack> {
  const tdb = await config.source.createDatabase(20);
  const simulator = await startSimulator({ port: 0, maxMessagesPerChannel: 50_000, ...sim });
  // Hash-tagged, as the worker processes use QUEUE_PREFIX.
  const prefix = `{bench${randomUUID().slice(0, 8)}}`;
  const machineId = await config.source.createMachine(tdb, 'Attack from Mars', 'AFM');
  const stack: Stack = {
    tdb,
    databaseUrl: tdb.url,
    sim: simulator,
    prefix,
    machineId,
    workers: [],
    async startWorkers(n, env = {}, clockSkewsMs = []) {
      const started = Array.from({ length: n }, (_, i) =>
        spawnWorker({
          env: workerEnv(stack, { LOG_LEVEL: config.logLevel, ...config.source.workerEnv, ...env }),
          cpuProfDir: config.cpuProfDir,
          clockSkewMs: clockSkewsMs[i],
        }),
      );
      stack.workers.push(...started);
      await Promise.all(started.map((w) => w.ready));
      return started;
    },
    async close() {
      await Promise.all(stack.workers.map((w) => w.stop()));
      await simulator.close();
      await tdb.drop();
      await deleteRedisPrefix(prefix);
    },
  };
  return stack;
}

async function withStack<T>(sim: SimOptions, fn: (s: Stack) => Promise<T>): Promise<T> {
  const s = await openStack(sim);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

/** Stage medians (ms) from the ledger's timestamps, to see where latency goes. */
async function stageBreakdown(s: Stack, commits: Map<number, number>, arrivals: Arrivals) {
  const { rows } = await s.tdb.db.pool.query<{ id: number; published: number; routed: number; attempt: number; delivered: number }>(
    `SELECT e.entity_id AS id,
            extract(epoch FROM e.published_at) * 1000 AS published,
            extract(epoch FROM d.created_at) * 1000 AS routed,
            extract(epoch FROM d.first_attempt_at) * 1000 AS attempt,
            extract(epoch FROM d.delivered_at) * 1000 AS delivered
       FROM outbox_events e JOIN deliveries d ON d.event_id = e.id
      WHERE e.entity_type = 'log_entry' AND e.entity_id = ANY($1::int[])`,
    [[...commits.keys()]],
  );
  const stage = { relay: [] as number[], router: [] as number[], pickup: [] as number[], post: [] as number[], ledger: [] as number[] };
  for (const r of rows) {
    const committed = commits.get(r.id)!;
    const created = arrivals.byRecord.get(r.id)?.[0];
    stage.relay.push(Number(r.published) - committed);
    stage.router.push(Number(r.routed) - Number(r.published));
    stage.pickup.push(Number(r.attempt) - Number(r.routed));
    if (created !== undefined) {
      stage.post.push(created - Number(r.attempt));
      stage.ledger.push(Number(r.delivered) - created);
    }
  }
  return Object.fromEntries(Object.entries(stage).map(([k, v]) => [k, median(v)])) as Record<keyof typeof stage, number>;
}

/**
 * Commit → post latency at `rate` events/s, one worker. `viaPgBouncer`: the
 * worker's DATABASE_URL goes through a real PgBouncer in transaction mode
 * (LISTEN unavailable: the relay polls every second).
 */
async function latency(rate: number, seconds: number, viaPgBouncer = false): Promise<Metric[]> {
  const name = `latency @ ${rate}/s${viaPgBouncer ? ', through PgBouncer' : ''}`;
  const bouncer = viaPgBouncer ? await startPgBouncer({ poolMode: 'transaction' }) : null;
  try {
    return await latencyRun(name, rate, seconds, bouncer);
  } finally {
    await bouncer?.stop();
  }
}

async function latencyRun(name: string, rate: number, seconds: number, bouncer: PgBouncerRig | null): Promise<Metric[]> {
  return withStack({ rateLimits: NO_LIMITS }, async (s) => {
    await s.startWorkers(1, { DISCORD_RATE_LIMITS: 'off', ...(bouncer ? { DATABASE_URL: bouncer.urlFor(s.databaseUrl) } : {}) });
    const arrivals = new Arrivals(s.sim);
    const pool = s.tdb.db.pool;
    // Warm-up: connections, JIT, Lua scripts loaded; not measured.
    const warm: number[] = [];
    for (let i = 0; i < 30; i++) {
      warm.push((await insertOne(pool, s.machineId, `warm-up ${i}`, config.source)).id);
      await sleep(20);
    }
    if (!(await until(() => arrivals.poll().countOf(warm) === warm.length, 30_000))) throw new Error('warm-up events never arrived');

    const n = Math.round(rate * seconds);
    const commits = new Map<number, number>();
    const inflight: Promise<void>[] = [];
    const t0 = performance.now() + 20;
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(insertOne(pool, s.machineId, `latency ${rate}/s #${i}`, config.source).then((r) => void commits.set(r.id, r.committedAt)));
    }
    await Promise.all(inflight);
    const producedIn = (performance.now() - t0) / 1000;
    const all = await until(() => arrivals.poll().countOf(commits.keys()) === commits.size, 60_000);
    const lat = [...commits]
      .map(([id, committedAt]) => (arrivals.byRecord.get(id)?.[0] ?? Number.NaN) - committedAt)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const stages = await stageBreakdown(s, commits, arrivals);
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    const at100 = rate === 100;
    return [
      { scenario: name, metric: 'events (achieved rate)', value: `${lat.length}/${n} (${round(n / producedIn)}/s)`, ...(all ? {} : { note: 'not all arrived in 60 s' }) },
      { scenario: name, metric: 'p50 commit→created', value: p50, unit: 'ms', ...(at100 ? { target: '≤ 20 ms', pass: p50 <= 20 } : {}) },
      { scenario: name, metric: 'p95 commit→created', value: percentile(lat, 95), unit: 'ms' },
      { scenario: name, metric: 'p99 commit→created', value: p99, unit: 'ms', ...(at100 ? { target: '≤ 100 ms', pass: p99 <= 100 } : {}) },
      { scenario: name, metric: 'max commit→created', value: lat.at(-1) ?? Number.NaN, unit: 'ms' },
      {
        scenario: name,
        metric: 'stage medians',
        value: `relay ${round(stages.relay)} / router ${round(stages.router)} / pickup ${round(stages.pickup)} / post ${round(stages.post)} ms`,
        note: `ledger write after post ${round(stages.ledger)} ms`,
      },
    ];
  });
}

async function throughput(workers: number, events: number): Promise<Metric[]> {
  const name = `throughput, ${workers} worker${workers > 1 ? 's' : ''}`;
  return withStack({ rateLimits: NO_LIMITS }, async (s) => {
    const procs = await s.startWorkers(workers, { DISCORD_RATE_LIMITS: 'off' });
    const arrivals = new Arrivals(s.sim);
    const pool = s.tdb.db.pool;
    // Warm-up, not measured: connections open, the JIT has compiled the hot
    // paths of every process (a long-running worker's steady state).
    const warm: number[] = [];
    for (let c = 0; c < 4; c++) warm.push(...(await insertMany(pool, s.machineId, 500, 'warm-up', config.source)).ids);
    if (!(await until(() => arrivals.poll().countOf(warm) === warm.length, 60_000))) throw new Error('warm-up events never arrived');
    await sleep(500);

    const cpuBefore = procs.map((p) => readCpuMs(p.pid));
    const xactsBefore = await readXacts(pool);
    const chunks = 10;
    const ids: number[] = [];
    let firstCommit = 0;
    for (let c = 0; c < chunks; c++) {
      const size = Math.floor(events / chunks) + (c < events % chunks ? 1 : 0);
      const r = await insertMany(pool, s.machineId, size, `throughput ${c}`, config.source);
      if (c === 0) firstCommit = r.committedAt;
      ids.push(...r.ids);
    }
    const insertedIn = Date.now() - firstCommit;
    const all = await until(() => arrivals.poll().countOf(ids) === ids.length, 600_000, 200);
    let last = 0;
    let dup = 0;
    for (const id of ids) {
      const times = arrivals.byRecord.get(id);
      if (!times) continue;
      last = Math.max(last, times[0]!);
      if (times.length > 1) dup++;
    }
    const arrived = arrivals.countOf(ids);
    if (config.timeline) {
      const hist: number[] = [];
      for (const id of ids) {
        const t = arrivals.byRecord.get(id)?.[0];
        if (t !== undefined) hist[Math.floor((t - firstCommit) / 500)] = (hist[Math.floor((t - firstCommit) / 500)] ?? 0) + 1;
      }
      log(`arrivals per 500 ms: ${Array.from(hist, (v) => v ?? 0).join(' ')}`);
      const { rows: h2 } = await pool.query<{ b: number; n: number; p: number }>(
        `SELECT floor((extract(epoch FROM d.first_attempt_at) * 1000 - $2) / 500)::int AS b, count(*)::int AS n,
                count(*) FILTER (WHERE d.delivered_at IS NOT NULL)::int AS p
           FROM outbox_events e JOIN deliveries d ON d.event_id = e.id
          WHERE e.entity_type = 'log_entry' AND e.entity_id = ANY($1::int[]) GROUP BY 1 ORDER BY 1`,
        [ids, firstCommit],
      );
      log(`claims per 500 ms: ${h2.map((r) => `${r.b}:${r.n}`).join(' ')}`);
      const { rows: h3 } = await pool.query<{ b: number; n: number }>(
        `SELECT floor((extract(epoch FROM e.published_at) * 1000 - $2) / 500)::int AS b, count(*)::int AS n
           FROM outbox_events e WHERE e.entity_type = 'log_entry' AND e.entity_id = ANY($1::int[]) GROUP BY 1 ORDER BY 1`,
        [ids, firstCommit],
      );
      log(`relayed per 500 ms: ${h3.map((r) => `${r.b}:${r.n}`).join(' ')}`);
    }
    const seconds = (last - firstCommit) / 1000;
    const rate = arrived / seconds;
    // When each stage had seen its last event: where the time went.
    const { rows: [stages] } = await pool.query<{ published: number; claimed: number; delivered: number }>(
      `SELECT extract(epoch FROM max(e.published_at)) * 1000 AS published,
              extract(epoch FROM max(d.first_attempt_at)) * 1000 AS claimed,
              extract(epoch FROM max(d.delivered_at)) * 1000 AS delivered
         FROM outbox_events e JOIN deliveries d ON d.event_id = e.id
        WHERE e.entity_type = 'log_entry' AND e.entity_id = ANY($1::int[])`,
      [ids],
    );
    const peak = Math.max(...procs.map((p) => readRss(p.pid).peakMb));
    const cpuMs = procs.reduce((sum, p, i) => sum + readCpuMs(p.pid) - cpuBefore[i]!, 0);
    // Postgres flushes its counters at most once a second; the 10 producer transactions are subtracted.
    await sleep(1100);
    const xacts = (await readXacts(pool)) - xactsBefore - chunks;
    return [
      { scenario: name, metric: 'events delivered', value: `${arrived}/${events}`, note: `inserted in ${insertedIn} ms (${chunks} transactions)${all ? '' : '; NOT all arrived'}` },
      { scenario: name, metric: 'first commit → last message', value: seconds, unit: 's' },
      { scenario: name, metric: 'throughput', value: rate, unit: 'events/s', target: '≥ 1000/s', pass: all && rate >= 1000 },
      { scenario: name, metric: 'duplicates', value: dup },
      {
        scenario: name,
        metric: 'last event relayed / claimed / recorded',
        value: `${round((Number(stages!.published) - firstCommit) / 1000)} / ${round((Number(stages!.claimed) - firstCommit) / 1000)} / ${round((Number(stages!.delivered) - firstCommit) / 1000)}`,
        unit: 's',
        note: 'after the first commit (ledger timestamps)',
      },
      { scenario: name, metric: 'peak RSS (max of workers)', value: peak, unit: 'MB' },
      { scenario: name, metric: 'worker CPU per event', value: cpuMs / arrived, unit: 'ms', note: `all worker processes; ${round(cpuMs / 1000)} s CPU in total` },
      { scenario: name, metric: 'Postgres transactions per event', value: xacts / arrived, note: 'each single statement outside BEGIN counts as one' },
    ];
  });
}

async function rss(events: number): Promise<Metric[]> {
  const name = `worker RSS, ${events} queued`;
  return withStack({ rateLimits: NO_LIMITS }, async (s) => {
    // The bot queue is paused before the worker starts, so the jobs stay queued.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const bot = openQueue(QUEUES.bot, redis, s.prefix);
    try {
      await bot.pause();
      const [worker] = await s.startWorkers(1, { DISCORD_RATE_LIMITS: 'off' });
      const idle = readRss(worker!.pid);
      const ids: number[] = [];
      for (let c = 0; c < 10; c++) ids.push(...(await insertMany(s.tdb.db.pool, s.machineId, Math.ceil(events / 10), `rss ${c}`, config.source)).ids);
      // The relay puts new posts in jobs of 25. On top of those, every
      // delivery gets a job of its own, as the reconciler gives them after
      // Redis lost its queues: at least `events` jobs queued.
      const routed = await until(async () => {
        const { rows } = await s.tdb.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries`);
        return rows[0]!.n >= ids.length;
      }, 180_000, 250);
      if (!routed) throw new Error('events were not all routed in 180 s');
      const { rows: deliveries } = await s.tdb.db.pool.query<{ id: string }>(`SELECT id FROM deliveries`);
      for (let i = 0; i < deliveries.length; i += 1000) {
        const jobs = deliveries.slice(i, i + 1000).map((d) => ({ data: { deliveryIds: [d.id] }, jobId: deliveryJobId(d.id) }));
        await enqueue(bot, JOBS.deliverBot, jobs, { retry: DEFAULT_RETRY });
      }
      const queued = await until(async () => {
        const b = await bot.getJobCounts('wait', 'paused');
        return (b.wait ?? 0) + (b.paused ?? 0) >= ids.length;
      }, 60_000, 250);
      if (!queued) throw new Error('jobs were not all queued in 60 s');
      await sleep(1000);
      const counts = await bot.getJobCounts('wait', 'paused');
      const held = readRss(worker!.pid);
      return [
        { scenario: name, metric: 'RSS idle (started, nothing queued)', value: idle.rssMb, unit: 'MB' },
        {
          scenario: name,
          metric: 'RSS with jobs queued',
          value: held.rssMb,
          unit: 'MB',
          target: '≤ 200 MB',
          pass: held.rssMb <= 200,
          note: `${(counts.wait ?? 0) + (counts.paused ?? 0)} bot jobs queued (${ids.length} single + the relay's jobs of 25; bot queue paused)`,
        },
        { scenario: name, metric: 'peak RSS while routing them', value: held.peakMb, unit: 'MB' },
      ];
    } finally {
      await bot.close();
      await redis.quit();
    }
  });
}

interface BurstFigures {
  workers: number;
  drainMs: number;
  extrapolated: boolean;
  rateLimited: number;
}

async function burst(workers: number, events: number, timeoutS: number): Promise<{ metrics: Metric[]; figures: BurstFigures }> {
  const name = `burst ${events} → 1 channel, ${workers} worker${workers > 1 ? 's' : ''}`;
  return withStack({}, async (s) => {
    await s.startWorkers(workers);
    const arrivals = new Arrivals(s.sim);
    const { ids, committedAt } = await insertMany(s.tdb.db.pool, s.machineId, events, 'burst', config.source);
    const drained = await until(() => arrivals.poll().countOf(ids) === ids.length, timeoutS * 1000, 250);
    arrivals.poll();
    const stats = s.sim.stats();
    const arrived = arrivals.countOf(ids);
    let dup = 0;
    for (const id of ids) if ((arrivals.byRecord.get(id)?.length ?? 0) > 1) dup++;
    const elapsedMs = (drained ? arrivals.lastAt : Date.now()) - committedAt;
    const drainMs = drained ? elapsedMs : (elapsedMs * events) / Math.max(1, arrived);
    const metrics: Metric[] = [
      {
        scenario: name,
        metric: 'time to drain',
        value: drainMs / 1000,
        unit: 's',
        note: drained ? 'measured' : `EXTRAPOLATED: ${arrived}/${events} arrived in ${round(elapsedMs / 1000)} s (--burst-timeout)`,
      },
      { scenario: name, metric: '429s', value: stats.rateLimited, target: '0', pass: stats.rateLimited === 0, note: `global ${stats.globalRateLimited}` },
      { scenario: name, metric: 'invalid requests', value: stats.invalidRequests },
      { scenario: name, metric: 'messages used', value: stats.messagesCreated, note: `${round(arrived / Math.max(1, stats.messagesCreated))} events per message` },
      { scenario: name, metric: 'duplicates', value: dup },
    ];
    return { metrics, figures: { workers, drainMs, extrapolated: !drained, rateLimited: stats.rateLimited } };
  });
}

/** Discord's per-channel limit: 5 messages per 5 s, in fixed windows (the simulator's default). */
const CHANNEL_WINDOW = { messages: 5, ms: 5000 };
/** Embeds per message: what flood batching packs. */
const EMBEDS_PER_MESSAGE = 10;

/**
 * The shortest time Discord's fixed windows allow for `events` posted into one
 * channel, counted from that channel's first message: ⌈M / 5⌉ − 1 further
 * windows of 5 s for M messages of up to 10 embeds, plus `extraMessages`
 * sent before them.
 */
function idealDrainMs(events: number, extraMessages: number): number {
  const messages = Math.ceil(events / EMBEDS_PER_MESSAGE) + extraMessages;
  return (Math.ceil(messages / CHANNEL_WINDOW.messages) - 1) * CHANNEL_WINDOW.ms;
}

/**
 * Discord's ceiling: a burst into `channels` channels with Discord's limits on
 * at the simulator (5 messages per 5 s per channel, 50 requests/s per bot).
 * Each channel's share is routed there by switching the default channel in
 * the settings (a canary event confirms the workers use the new channel
 * before the burst is committed). The workers' clocks are skewed by up to
 * ±2 s, as on separate hosts.
 */
async function ceiling(workers: number, channels: number, perChannel: number, timeoutS: number): Promise<Metric[]> {
  const name = `ceiling: ${channels * perChannel} events → ${channels} channel${channels > 1 ? 's' : ''}, ${workers} worker${workers > 1 ? 's' : ''}`;
  return withStack({}, async (s) => {
    const skews = workers === 1 ? [0] : Array.from({ length: workers }, (_, i) => -2000 + (4000 * i) / (workers - 1));
    await s.startWorkers(workers, {}, skews);
    const pool = s.tdb.db.pool;
    const channelIds = [s.sim.channelId, ...Array.from({ length: channels - 1 }, (_, i) => s.sim.createChannel({ name: `ceiling-${i + 2}` }).id)];
    const targetOf = async (recordId: number) =>
      (
        await pool.query<{ target_key: string }>(
          `SELECT d.target_key FROM deliveries d JOIN outbox_events e ON e.id = d.event_id
            WHERE e.entity_type = 'log_entry' AND e.entity_id = $1 AND d.target = 'bot'`,
          [recordId],
        )
      ).rows[0]?.target_key;
    // Every channel is watched for every event: a worker whose settings had not
    // switched yet routes part of a share to the previous channel, and the
    // ceiling is then computed from where the events really went.
    const arrivals = channelIds.map((channelId) => new Arrivals(s.sim, channelId));
    const ids: number[] = [];
    const canaries: number[] = [];
    for (const channelId of channelIds) {
      await updateSettings(s.tdb.db.prisma, { channelId }, 'bench');
      // The settings reach every worker within a second (NOTIFY, then a version poll).
      for (;;) {
        const canary = await insertOne(pool, s.machineId, 'canary', config.source);
        canaries.push(canary.id);
        const target = await waitForValue(() => targetOf(canary.id), 10_000);
        if (target === channelId) break;
      }
      const share = await insertMany(pool, s.machineId, perChannel, `ceiling ${channelId}`, config.source);
      ids.push(...share.ids);
      // Routed before the next switch, so the share is not split by the switch itself.
      await waitForValue(async () => ((await pool.query("SELECT 1 FROM outbox_events WHERE status = 'pending' LIMIT 1")).rowCount === 0 ? true : undefined), 30_000);
    }
    const total = ids.length;
    const arrivedCount = () => {
      for (const a of arrivals) a.poll();
      return ids.filter((id) => arrivals.some((a) => a.byRecord.has(id))).length;
    };
    const drained = await until(() => arrivedCount() === total, timeoutS * 1000, 250);
    arrivedCount();
    let dup = 0;
    for (const id of ids) if (arrivals.reduce((n, a) => n + (a.byRecord.get(id)?.length ?? 0), 0) > 1) dup++;
    let firstAt = Number.POSITIVE_INFINITY;
    let lastAt = 0;
    let idealEnd = 0;
    for (const a of arrivals) {
      const here = ids.filter((id) => a.byRecord.has(id)).length;
      if (here === 0) continue;
      // A channel's windows start with its first message (a canary, or the first post of the share).
      const start = Math.min(...a.times);
      const canariesHere = canaries.filter((id) => a.byRecord.has(id)).length;
      firstAt = Math.min(firstAt, start);
      lastAt = Math.max(lastAt, a.lastAt);
      idealEnd = Math.max(idealEnd, start + idealDrainMs(here, canariesHere));
    }
    const drainMs = (drained ? lastAt : Date.now()) - firstAt;
    const idealMs = idealEnd - firstAt;
    const fraction = idealMs / drainMs;
    const stats = s.sim.stats();
    const rate = total / (drainMs / 1000);
    return [
      { scenario: name, metric: 'time to drain', value: drainMs / 1000, unit: 's', note: drained ? 'measured, from the first message' : `NOT drained in ${timeoutS} s` },
      {
        scenario: name,
        metric: 'drain rate',
        value: rate,
        unit: 'events/s',
        note: `sustained ceiling ${EMBEDS_PER_MESSAGE * channels} events/s (10 per channel; 50 requests/s per bot)`,
      },
      {
        scenario: name,
        metric: 'fraction of the ceiling',
        value: `${Math.round(fraction * 100)} %`,
        target: '≥ 90 %',
        pass: drained && fraction >= 0.9,
        note: `fastest schedule Discord's windows allow: ${round(idealMs / 1000)} s`,
      },
      { scenario: name, metric: '429s', value: stats.rateLimited, target: '0', pass: stats.rateLimited === 0, note: `global ${stats.globalRateLimited}` },
      { scenario: name, metric: 'messages', value: stats.messagesCreated, note: `${round(total / Math.max(1, stats.messagesCreated))} events per message` },
      { scenario: name, metric: 'duplicates', value: dup },
      { scenario: name, metric: 'channels used', value: arrivals.filter((a) => ids.some((id) => a.byRecord.has(id))).length },
      ...(workers > 1 ? [{ scenario: name, metric: 'worker clocks', value: skews.map((ms) => `${ms > 0 ? '+' : ''}${ms / 1000} s`).join(', ') }] : []),
    ];
  });
}

/** Polls `read` until it yields a value; throws after `timeoutMs`. */
async function waitForValue<T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

async function naive(events: number, measure: number): Promise<{ metrics: Metric[]; drainMs: number; extrapolated: boolean }> {
  const name = `naive baseline, burst ${events}`;
  return withStack({}, async (s) => {
    const { ids } = await insertMany(s.tdb.db.pool, s.machineId, events, 'naive', config.source);
    const limit = measure > 0 ? Math.min(measure, events) : events;
    const r = await runNaive({ records: config.source.records(s.tdb), apiUrl: s.sim.apiUrl, token: s.sim.token, channelId: s.sim.channelId, baseUrl: BASE_URL, recordIds: ids, limit });
    const extrapolated = r.posted < events;
    const drainMs = extrapolated ? (r.elapsedMs * events) / r.posted : r.elapsedMs;
    const stats = s.sim.stats();
    return {
      extrapolated,
      drainMs,
      metrics: [
        {
          scenario: name,
          metric: 'time to drain',
          value: drainMs / 1000,
          unit: 's',
          note: extrapolated ? `EXTRAPOLATED from ${r.posted} posts in ${round(r.elapsedMs / 1000)} s (${round(r.rate)}/s)` : 'measured',
        },
        { scenario: name, metric: '429s', value: stats.rateLimited, note: `over ${r.posted} posts` },
        { scenario: name, metric: 'messages used', value: stats.messagesCreated, note: `over ${r.posted} posts` },
      ],
    };
  });
}

async function machine() {
  const tdb = await createTestDatabase();
  const redis = new Redis(REDIS_URL);
  try {
    const pgVersion = (await tdb.db.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      postgres: pgVersion,
      redis: redisVersion,
      platform: `${os.platform()} ${os.release()}`,
    };
  } finally {
    await redis.quit();
    await tdb.drop();
  }
}

async function main() {
  const startedAt = new Date();
  log('building the worker (apps/worker/dist/main.mjs), as production runs it');
  buildWorker();
  const host = await machine();
  log(`machine: ${host.cpus} × ${host.cpuModel}, node ${host.node}, Postgres ${host.postgres}, Redis ${host.redis}`);
  const metrics: Metric[] = [];
  const record = (ms: Metric[]) => {
    metrics.push(...ms);
    process.stdout.write(`${formatTable(ms)}\n\n`);
  };
  const want = (s: Scenario) => config.only.has(s);

  if (want('latency')) {
    for (const rate of config.latencyRates) {
      log(`latency at ${rate} events/s for ${config.latencySeconds} s`);
      record(await latency(rate, config.latencySeconds));
    }
  }
  if (want('pgbouncer')) {
    log(`latency at 10 events/s for ${config.latencySeconds} s, the worker through PgBouncer (transaction pooling)`);
    record(await latency(10, config.latencySeconds, true));
  }
  if (want('throughput')) {
    for (const w of config.throughputWorkers) {
      log(`throughput: ${config.throughputEvents} events, ${w} worker process(es)`);
      record(await throughput(w, config.throughputEvents));
    }
  }
  if (want('rss')) {
    log(`RSS with ${config.rssEvents} jobs queued`);
    record(await rss(config.rssEvents));
  }
  let naiveRun: Awaited<ReturnType<typeof naive>> | undefined;
  if (want('naive')) {
    log(`naive baseline: ${config.burstEvents}-event burst, ${config.naiveEvents || 'all'} posts measured`);
    naiveRun = await naive(config.burstEvents, config.naiveEvents);
    record(naiveRun.metrics);
  }
  if (want('burst')) {
    for (const w of config.burstWorkers) {
      log(`burst: ${config.burstEvents} events into one channel, Discord's limits on, ${w} worker process(es), timeout ${config.burstTimeoutS} s`);
      const b = await burst(w, config.burstEvents, config.burstTimeoutS);
      const ms = [...b.metrics];
      if (naiveRun) {
        const ratio = naiveRun.drainMs / b.figures.drainMs;
        const estimated = naiveRun.extrapolated || b.figures.extrapolated;
        ms.push({
          scenario: ms[0]!.scenario,
          metric: 'faster than naive',
          value: `${round(ratio)}×`,
          target: '≥ 8× and 0 429s',
          pass: ratio >= 8 && b.figures.rateLimited === 0,
          ...(estimated ? { note: 'from extrapolated drain time(s)' } : {}),
        });
      }
      record(ms);
    }
  }
  if (want('ceiling')) {
    for (const w of config.ceilingWorkers) {
      log(`ceiling: ${config.ceilingOne} events into one channel, Discord's limits on, ${w} worker process(es)`);
      record(await ceiling(w, 1, config.ceilingOne, config.burstTimeoutS));
      log(`ceiling: ${config.ceilingChannels} × ${config.ceilingPerChannel} events over ${config.ceilingChannels} channels, ${w} worker process(es)`);
      record(await ceiling(w, config.ceilingChannels, config.ceilingPerChannel, config.burstTimeoutS));
    }
  }

  const finishedAt = new Date();
  const outDir = path.join(ROOT, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt, finishedAt, machine: host, config: { ...config, only: [...config.only] }, metrics }, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(metrics)}\n\nwritten to ${path.relative(process.cwd(), file)} (${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s)\n`);
}

await main();
process.exit(0);
