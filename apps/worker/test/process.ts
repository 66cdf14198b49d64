/** Runs the real worker entry point as a child process (for crash tests, chaos and benchmarks). */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A unique key prefix for spawned workers, hash-tagged as the worker uses QUEUE_PREFIX. */
export function processPrefix(): string {
  return `{t${randomUUID().slice(0, 8)}}`;
}

/** The environment that points a spawned worker at a test database, Redis prefix and simulator. */
export function processEnv(stack: { databaseUrl: string; prefix: string; sim: { apiUrl: string; token: string; channelId: string } }): Record<string, string> {
  return {
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: stack.prefix,
    DISCORD_API_URL: stack.sim.apiUrl,
    DISCORD_BOT_TOKEN: stack.sim.token,
    DISCORD_CHANNEL_ID: stack.sim.channelId,
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output: string[];
}

/**
 * Spawns `apps/worker/src/main.ts` with `env`; `ready` resolves on its
 * "worker started" log line. `preload`: modules to `--import` first (e.g. a
 * skewed clock).
 */
export function spawnWorker(env: Record<string, string>, preload: string[] = []): WorkerProcess {
  // `node --import tsx` (not the tsx CLI, which runs the program in a child
  // process): signals and SIGKILL reach the worker itself.
  const imports = [...preload, 'tsx'].flatMap((m) => ['--import', m]);
  const child = spawn(process.execPath, [...imports, path.join(root, 'apps/worker/src/main.ts')], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', EXIT_WITH_PARENT: '1', ...env },
    // stdin stays open while we live; the worker exits when it closes.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      if (text.includes('worker started')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started:\n${output.join('')}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, output };
}
