/**
 * Worker entry point: parses the environment once, checks that Postgres and
 * Redis answer, starts every stage and stops cleanly on SIGINT/SIGTERM. A bad
 * variable or an unreachable service ends it with one line saying what to
 * do, not a stack trace per reconnect.
 */
import { createServer } from 'node:http';
import { createBotFeatures } from '@flipfix/bot-features';
import { describeRedis, type LoadedEnv, loadEnv, startupProblem, waitForCoreServices } from '@flipfix/config';
import { probePostgres } from '@flipfix/db';
import { withLegacyWebhooks } from '@flipfix/legacy-webhooks';
import { createLogger, shouldColorize } from '@flipfix/logger';
import { probeRedis } from '@flipfix/queue';
import { sourceFor } from '@flipfix/sources';
import { WorkerEnv } from './env';
import { Metrics } from './metrics';
import { startWorker } from './worker';

let loaded: LoadedEnv<WorkerEnv>;
try {
  loaded = loadEnv(WorkerEnv);
} catch (err) {
  process.stderr.write(`worker: ${startupProblem(err)}\n`);
  process.exit(1);
}
const { env, runtime: { discord, baseUrl, redis } } = loaded;
const log = createLogger({
  name: 'worker',
  level: env.LOG_LEVEL,
  pretty: env.NODE_ENV === 'development',
  colorize: shouldColorize(process.stdout, process.env),
  secrets: [discord.botToken],
});

try {
  await waitForCoreServices(env, { postgres: probePostgres, redis: probeRedis }, (line) => log.warn(line));
} catch (err) {
  log.fatal(startupProblem(err));
  process.exit(1);
}

const metrics = new Metrics({ defaultMetrics: true });
const worker = await startWorker({
  databaseUrl: env.DATABASE_URL,
  redis,
  prefix: env.QUEUE_PREFIX,
  baseUrl,
  source: sourceFor(env),
  discord: { token: discord.botToken, apiUrl: discord.apiUrl, channelId: discord.channelId, timeoutMs: env.DISCORD_TIMEOUT_MS },
  log,
  metrics,
  concurrency: env.WORKER_CONCURRENCY,
  restClients: env.DISCORD_REST_CLIENTS,
  retry: { attempts: env.DELIVERY_ATTEMPTS, backoffMs: env.DELIVERY_BACKOFF_MS, jitter: 0.5 },
  reconcileAfterMs: env.RECONCILE_AFTER_SECONDS * 1000,
  lockDurationMs: env.WORKER_LOCK_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  relayPollMs: env.OUTBOX_POLL_MS,
  ...(env.DISCORD_RATE_LIMITS === 'off' ? { rateLimits: { global: null, defaultChannel: null } } : {}),
  // Rich bot features (threads, reactions, digests) and the legacy webhook path.
  extend: withLegacyWebhooks((ctx) => createBotFeatures(ctx)),
});
log.info({ discord: discord.simulated ? 'simulator' : 'discord', api: discord.apiUrl, redis: describeRedis(redis) }, 'delivering to');
// A supervisor that spawned us with an IPC channel learns we are ready whatever the log level.
process.send?.('ready');

const server =
  env.WORKER_METRICS_PORT > 0
    ? createServer(async (req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      }).listen(env.WORKER_METRICS_PORT, '127.0.0.1')
    : null;

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server?.close();
  await worker.close(10_000);
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
// Under a supervisor that may die without signalling (tests, benchmarks):
// stop when the parent closes our stdin.
if (process.env.EXIT_WITH_PARENT === '1') {
  process.stdin.on('end', () => void stop('parent exited')).resume();
}
process.on('SIGTERM', () => void stop('SIGTERM'));
