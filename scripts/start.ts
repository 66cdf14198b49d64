/**
 * `npm start`: migrate (creating the database if missing), seed demo machines
 * the first time, then run the web app, the worker and (unless a real bot
 * token is configured) the Discord simulator in one foreground command with
 * prefixed logs. Ctrl-C stops all three. A bad variable or an unreachable
 * Postgres or Redis ends it at once with one line saying what to do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseEnv, type DiscordTarget, loadDevToken, loadEnv, redactUrl, SourceEnv, startupProblem, waitForCoreServices } from '@flipfix/config';
import { createDb, probePostgres, seedDemo } from '@flipfix/db';
import { shouldColorize } from '@flipfix/logger';
import { probeRedis } from '@flipfix/queue';
import { migrateSource, sourceFor } from '@flipfix/sources';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** The development admin token, kept across runs (git-ignored). */
const DEV_TOKEN_FILE = path.join(root, '.admin-token');
const color = shouldColorize(process.stdout, process.env);

function fail(err: unknown): never {
  console.error(`[start] ${startupProblem(err)}`);
  process.exit(1);
}

const StartEnv = BaseEnv.extend(SourceEnv.shape);
let env: BaseEnv & SourceEnv;
let discord: DiscordTarget;
try {
  ({
    env,
    runtime: { discord },
  } = loadEnv(StartEnv));
  // The database itself may not exist yet: the migration runner creates it.
  const probes = { postgres: (url: string) => probePostgres(url, { allowMissingDatabase: true }), redis: probeRedis };
  await waitForCoreServices(env, probes, (line) => console.log(`[start] ${line}`));
  const source = sourceFor(env);
  console.log(`[start] migrating ${redactUrl(env.DATABASE_URL)} (source ${source.name}, schema ${source.schema})`);
  const { applied } = await migrateSource(source, env.DATABASE_URL, (m) => console.log(`[start] ${m}`));
  console.log(`[start] ${applied.length} migration(s) applied`);
  // Demo machines only in our own app's tables; an attached app's data is its own.
  if (source.name === 'builtin') {
    const db = createDb({ databaseUrl: env.DATABASE_URL, max: 2 });
    const { created } = await seedDemo(db);
    if (created > 0) console.log(`[start] seeded ${created} demo machines`);
    await db.close();
  }
} catch (err) {
  fail(err);
}

// The children write to pipes; they colour their lines only when this terminal shows colours.
const childEnv: NodeJS.ProcessEnv = { ...process.env, ...(color ? { FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } : {}) };
// One admin token for the whole run, so the one printed is the one that works; the same one as last
// time, so a saved Bearer token keeps working. Never in production: there ADMIN_TOKEN must be set.
if (env.NODE_ENV !== 'production') childEnv.ADMIN_TOKEN ??= loadDevToken(DEV_TOKEN_FILE);

const colors: Record<string, string> = { sim: '35', web: '36', worker: '33' };
const children: ChildProcess[] = [];

function run(name: string, workspace: string): void {
  // `node --import tsx`: one process per app, so signals reach the app itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.join(root, workspace),
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = color ? `\x1b[${colors[name] ?? '0'}m[${name}]\x1b[0m` : `[${name}]`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${tag} ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${tag} exited (${signal ?? code})\n`);
    if (!stopping) void stopAll(code ?? 1);
  });
  children.push(child);
}

if (discord.simulated && !process.env.DISCORD_API_URL) run('sim', 'apps/discord-sim');
run('worker', 'apps/worker');
run('web', 'apps/web');

console.log(`[start] web:       http://localhost:${process.env.PORT ?? 3000}  (admin console: /admin)`);
if (discord.simulated) console.log(`[start] simulator: http://127.0.0.1:${env.DISCORD_SIM_PORT}  (see the posts here)`);
else console.log('[start] posting to the real Discord with DISCORD_BOT_TOKEN');
const tokenNote = childEnv.ADMIN_TOKEN === process.env.ADMIN_TOKEN ? '(from ADMIN_TOKEN)' : `${childEnv.ADMIN_TOKEN}  (kept in .admin-token)`;
console.log(`[start] admin token: ${tokenNote}`);

let stopping = false;
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }, 15_000);
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  clearTimeout(deadline);
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
