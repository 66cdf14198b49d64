/**
 * Benchmark worker entry: the same composition as apps/worker/src/main.ts,
 * plus `BENCH_RATE_LIMITS=off` to switch our own shared limiter off (the
 * "rate limits off" scenarios run against a simulator without limits, and
 * the production entry has no such switch on purpose). It writes one
 * `bench worker ready` line when every stage is up, whatever LOG_LEVEL is.
 */
import { parseEnv, resolveDiscord, z } from '@flipfix/config';
import { createLogger } from '@flipfix/logger';
import { DefaultRestOptions } from '@discordjs/rest';
import { startWorker, WorkerEnv } from '@flipfix/worker';

const env = parseEnv(
  WorkerEnv.extend({
    BENCH_RATE_LIMITS: z.enum(['on', 'off']).default('on'),
    BENCH_REST_GLOBAL_LIMIT: z.enum(['on', 'off']).default('on'),
  }),
);
// Experiment only (`npm run bench -- --rest-global-limit off`): @discordjs/rest keeps its
// own per-process global limit (50 requests/s, on top of our shared one) and rejects
// past it; this lifts it to measure what that cap costs. Never done in production code.
if (env.BENCH_REST_GLOBAL_LIMIT === 'off') {
  (DefaultRestOptions as { globalRequestsPerSecond: number }).globalRequestsPerSecond = 1_000_000;
}
const discord = resolveDiscord(env);
const log = createLogger({ name: 'worker', level: env.LOG_LEVEL, pretty: false, secrets: [discord.botToken] });
const limitsOff = env.BENCH_RATE_LIMITS === 'off';

const worker = await startWorker({
  databaseUrl: env.DATABASE_URL,
  redisUrl: env.REDIS_URL,
  prefix: env.QUEUE_PREFIX,
  baseUrl: env.APP_BASE_URL,
  discord: { token: discord.botToken, apiUrl: discord.apiUrl, channelId: discord.channelId, timeoutMs: env.DISCORD_TIMEOUT_MS },
  log,
  concurrency: env.WORKER_CONCURRENCY,
  retry: { attempts: env.DELIVERY_ATTEMPTS, backoffMs: env.DELIVERY_BACKOFF_MS, jitter: 0.5 },
  reconcileAfterMs: env.RECONCILE_AFTER_SECONDS * 1000,
  lockDurationMs: env.WORKER_LOCK_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  ...(limitsOff ? { rateLimits: { global: null, defaultChannel: null } } : {}),
});
process.stdout.write('bench worker ready\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.close(10_000);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
