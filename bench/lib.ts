/**
 * Shared pieces of the benchmark and chaos runs: worker processes, a
 * producer that commits real domain rows (the outbox triggers fire per row),
 * reading what reached the simulator, percentiles, RSS, and the result table.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Simulator } from '@flipfix/discord-sim';
import { deletePrefix } from '@flipfix/queue';
import { builtinSource, createMachine, createTestDatabase, type SourceRecords, type TestDatabase } from '@flipfix/db';
import { createFlipfixSource } from '@flipfix/source-flipfix';
import { createFlipfixTestDatabase, DjangoWriter } from '@flipfix/source-flipfix/testing';
import { SKEWED_CLOCK } from '@flipfix/testing';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Base URL the workers link records under; record ids are read back from embed urls. */
export const BASE_URL = 'http://flipfix.bench';

const ENTRIES = {
  /** The production build of apps/worker (dist/main.mjs, built by `npm run build`). */
  main: path.join(ROOT, 'apps/worker/dist/main.mjs'),
} as const;

/**
 * The node flags and environment production runs the worker with: read from
 * apps/worker's `start:prod` script, so the benchmark measures exactly that.
 */
function productionCommand(): { flags: string[]; env: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'apps/worker/package.json'), 'utf8')) as { scripts: Record<string, string> };
  const tokens = (pkg.scripts['start:prod'] ?? '').split(/\s+/);
  // `NAME=value` before `node` (e.g. MALLOC_ARENA_MAX), then node's own flags.
  const node = tokens.indexOf('node');
  const env = Object.fromEntries(tokens.slice(0, Math.max(0, node)).map((t) => t.split('=', 2) as [string, string]));
  return { flags: tokens.filter((t) => t.startsWith('--')), env };
}

/** Builds apps/worker's production bundle (the benchmarks run it). */
export function buildWorker(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'src/main.ts'], { cwd: path.join(ROOT, 'apps/worker'), stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building apps/worker failed');
}

export interface WorkerProc {
  child: ChildProcess;
  /** The pid of the worker itself (no wrapper process in between). */
  pid: number;
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** The last lines it wrote. */
  output: string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  entry?: keyof typeof ENTRIES;
  env: Record<string, string>;
  /** Writes a V8 CPU profile into this directory on exit. */
  cpuProfDir?: string | undefined;
  /** Shifts the process's wall clock by this much, as on a host whose clock drifted (see SKEWED_CLOCK). */
  clockSkewMs?: number | undefined;
}

/**
 * Runs the worker's production build as `node <flags> dist/main.mjs`: one
 * process, so SIGKILL and /proc/<pid>/status hit the worker itself.
 */
export function spawnWorker(options: SpawnOptions): WorkerProc {
  const entry = options.entry ?? 'main';
  const prod = productionCommand();
  const skew = options.clockSkewMs ? ['--import', SKEWED_CLOCK] : [];
  const args = [...prod.flags, ...skew, ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []), ENTRIES[entry]];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...prod.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      APP_BASE_URL: BASE_URL,
      ...(options.clockSkewMs ? { CLOCK_SKEW_MS: String(options.clockSkewMs) } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const keep = (text: string) => {
    output.push(text);
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      keep(text);
      if (text.includes('bench worker ready') || text.includes('worker started')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => keep(chunk.toString()));
    child.on('message', (m) => {
      if (m === 'ready') resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started:\n${output.join('').slice(-3000)}`)));
  });
  ready.catch(() => undefined);
  if (child.pid === undefined) throw new Error('worker process did not start');
  return {
    child,
    pid: child.pid,
    ready,
    exited,
    output,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Environment for a worker process on one stack. */
export function workerEnv(stack: { databaseUrl: string; prefix: string; sim: Simulator }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: stack.prefix,
    DISCORD_API_URL: stack.sim.apiUrl,
    DISCORD_BOT_TOKEN: stack.sim.token,
    DISCORD_CHANNEL_ID: stack.sim.channelId,
    ...extra,
  };
}

/** Resident set size now and at its peak, from /proc/<pid>/status, in MB. */
export function readRss(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) a process has used so far, in ms. */
export function readCpuMs(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}
/** USER_HZ on Linux. */
const CLOCK_TICKS = 100;

/** Transactions committed or rolled back in a database so far (Postgres' own counters). */
export async function readXacts(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]?.n ?? Number.NaN);
}

/** Deletes every key under `prefix:` (SCAN + DEL), leaving other users of this Redis alone. */
export function deleteRedisPrefix(prefix: string, redisUrl = REDIS_URL): Promise<number> {
  return deletePrefix(redisUrl, prefix);
}

/** Log entries committed by the producer: record id → epoch ms right after COMMIT returned. */
export type Commits = Map<number, number>;

/** Inserts one log entry in its own transaction; returns its id and commit time. */
export async function insertOne(pool: pg.Pool, machineId: number, text: string, source: BenchSource = BENCH_SOURCES.builtin): Promise<{ id: number; committedAt: number }> {
  const { ids, committedAt } = await insertMany(pool, machineId, 1, text, source, false);
  return { id: ids[0]!, committedAt };
}

/**
 * Inserts `count` log entries with one multi-row INSERT … SELECT
 * generate_series in one transaction (the outbox trigger fires per row),
 * into the source's table. `numbered` adds " <n>" to each text.
 */
export async function insertMany(
  pool: pg.Pool,
  machineId: number,
  count: number,
  label: string,
  source: BenchSource = BENCH_SOURCES.builtin,
  numbered = true,
): Promise<{ ids: number[]; committedAt: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: number | string }>(source.insertLogEntriesSql, [machineId, label, count, numbered]);
    await client.query('COMMIT');
    const committedAt = Date.now();
    return { ids: rows.map((r) => Number(r.id)), committedAt };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * What a benchmark writes into (`--source builtin|flipfix`): the database it
 * starts from, the machine it writes about, the log entry INSERT ($1 machine,
 * $2 text, $3 count, $4 numbered), and the worker's SOURCE.
 */
export interface BenchSource {
  name: 'builtin' | 'flipfix';
  workerEnv: Record<string, string>;
  createDatabase(max: number): Promise<TestDatabase>;
  createMachine(tdb: TestDatabase, name: string, shortName: string): Promise<number>;
  insertLogEntriesSql: string;
  /** The source's records, as the worker reads them (for the naive baseline). */
  records(tdb: TestDatabase): SourceRecords;
}

const TEXT_OF_G = "CASE WHEN $4::boolean THEN $2 || ' ' || g ELSE $2 END";

export const BENCH_SOURCES: Record<BenchSource['name'], BenchSource> = {
  builtin: {
    name: 'builtin',
    workerEnv: { SOURCE: 'builtin' },
    createDatabase: (max) => createTestDatabase({ max }),
    createMachine: async (tdb, name, shortName) => (await createMachine(tdb.db.prisma, { name, shortName })).id,
    records: (tdb) => builtinSource.records(tdb.db, BASE_URL),
    insertLogEntriesSql: `INSERT INTO log_entries (machine_id, text)
       SELECT $1, ${TEXT_OF_G} FROM generate_series(1, $3::int) AS g RETURNING id`,
  },
  // Flipfix's log entries, inserted with every column Django fills (its tables have no defaults).
  flipfix: {
    name: 'flipfix',
    workerEnv: { SOURCE: 'flipfix' },
    records: (tdb) => createFlipfixSource().records(tdb.db, BASE_URL),
    createDatabase: (max) => createFlipfixTestDatabase({ max }),
    async createMachine(tdb, name, shortName) {
      const django = new DjangoWriter(tdb.url);
      try {
        return await django.machine({ name, shortName, slug: name.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-') });
      } finally {
        await django.close();
      }
    },
    insertLogEntriesSql: `INSERT INTO public.maintenance_logentry (created_at, updated_at, text, maintainer_names, machine_id, occurred_at,
         created_by_id, problem_report_id, time_spent, submission_id)
       SELECT now(), now(), ${TEXT_OF_G}, 'Bench', $1, now(), NULL, NULL, 0, NULL FROM generate_series(1, $3::int) AS g RETURNING id`,
  },
};

/** The `--source` option's value as a {@link BenchSource}; an unknown name stops the run. */
export function benchSource(name: string | undefined): BenchSource {
  const source = BENCH_SOURCES[(name ?? 'builtin') as BenchSource['name']];
  if (source === undefined) throw new Error(`unknown --source ${name}; one of ${Object.keys(BENCH_SOURCES).join(', ')}`);
  return source;
}

const DISCORD_EPOCH = 1_420_070_400_000n;

/** The creation time (epoch ms) a Discord snowflake encodes. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

// Our log entry pages (`/log-entries/7`) and Flipfix's (`/logs/7/`).
const LOG_ENTRY_URL = new RegExp(`^${BASE_URL.replace(/[.]/g, '\\.')}/(?:log-entries|logs)/(\\d+)/?$`);

/**
 * Follows what reached one channel of the simulator: for each log entry, the
 * messages (by creation time) that carry its embed. Reads the simulator's
 * in-memory log incrementally, so polling it is cheap at 10,000 messages.
 */
export class Arrivals {
  readonly #sim: Simulator;
  readonly #channelId: string;
  #cursor = 0;
  /** Record id → creation times of the messages that carry it. */
  readonly byRecord = new Map<number, number[]>();
  messages = 0;
  lastAt = 0;
  /** Creation time of every message read so far. */
  readonly times: number[] = [];

  constructor(sim: Simulator, channelId = sim.channelId) {
    this.#sim = sim;
    this.#channelId = channelId;
  }

  /** Reads messages stored since the last call. */
  poll(): this {
    const list = this.#sim.state.messages(this.#channelId);
    for (; this.#cursor < list.length; this.#cursor++) {
      const m = list[this.#cursor]!;
      const at = snowflakeTime(m.id);
      this.messages++;
      this.times.push(at);
      this.lastAt = Math.max(this.lastAt, at);
      const seen = new Set<number>();
      for (const e of m.embeds as { url?: string }[]) {
        const id = Number(LOG_ENTRY_URL.exec(e.url ?? '')?.[1] ?? Number.NaN);
        if (Number.isNaN(id) || seen.has(id)) continue;
        seen.add(id);
        const times = this.byRecord.get(id);
        if (times) times.push(at);
        else this.byRecord.set(id, [at]);
      }
    }
    return this;
  }

  /** How many of `ids` have arrived at least once. */
  countOf(ids: Iterable<number>): number {
    let n = 0;
    for (const id of ids) if (this.byRecord.has(id)) n++;
    return n;
  }
}

/** Polls until `check` is true or the timeout passes; resolves whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** One measured figure. `pass` is set only where the issue gives a target. */
export interface Metric {
  scenario: string;
  metric: string;
  value: number | string;
  unit?: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

/** Formats `metrics` as a fixed-width text table. */
export function formatTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [
    m.scenario,
    m.metric,
    typeof m.value === 'number' ? `${round(m.value)}${m.unit ? ` ${m.unit}` : ''}` : `${m.value}${m.unit ? ` ${m.unit}` : ''}`,
    m.target ?? '',
    m.pass === undefined ? '' : m.pass ? 'PASS' : 'FAIL',
    m.note ?? '',
  ]);
  const head = ['scenario', 'metric', 'value', 'target', 'result', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function round(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
