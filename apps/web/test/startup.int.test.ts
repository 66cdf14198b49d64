/**
 * Start-up faults, through the real entry points (worker, web, `npm start`):
 * a bad variable or an unreachable Postgres or Redis ends the process with a
 * non-zero code and one line per attempt naming the service, the address
 * (never its password) and what to do; no stack trace, no secret.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const POSTGRES_OK = 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_OK = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs an entry point to its end; its output lines (stdout and stderr) and exit code. */
function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', STARTUP_ATTEMPTS: '3', STARTUP_BACKOFF_MS: '20', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => {
    child.once('close', (code) => resolve({ code, lines: output.split('\n').filter((l) => l.trim() !== '') }));
  });
}

const noStack = (lines: string[]) => expect(lines.join('\n')).not.toMatch(/^\s+at |\\n\s+at /m);

describe('start-up faults', { timeout: 90_000 }, () => {
  it('worker with a wrong REDIS_URL: one line per attempt saying what to do, then exit 1', async () => {
    const port = await closedPort();
    const { code, lines } = await run('apps/worker/src/main.ts', { DATABASE_URL: POSTGRES_OK, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toContain(`Redis at redis://127.0.0.1:${port} did not answer: connection refused`);
      expect(line).toContain('start Redis or set REDIS_URL');
    }
    expect(lines[2]).toContain('(3 attempts)');
    noStack(lines);
  });

  it('worker with a wrong DATABASE_URL: names Postgres and the address, never the password', async () => {
    const port = await closedPort();
    const { code, lines } = await run('apps/worker/src/main.ts', { DATABASE_URL: `postgresql://postgres:hunter2-secret@127.0.0.1:${port}/flipfix`, REDIS_URL: REDIS_OK });
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toContain(`Postgres at postgresql://postgres:***@127.0.0.1:${port}/flipfix did not answer: connection refused (3 attempts); start Postgres or set DATABASE_URL.`);
    expect(lines.join('\n')).not.toContain('hunter2-secret');
    noStack(lines);
  });

  it('npm start with a wrong DATABASE_URL exits 1 with that line instead of a stack', async () => {
    const port = await closedPort();
    const { code, lines } = await run('scripts/start.ts', { DATABASE_URL: `postgresql://postgres:hunter2-secret@127.0.0.1:${port}/flipfix`, REDIS_URL: REDIS_OK });
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toBe(`[start] Postgres at postgresql://postgres:***@127.0.0.1:${port}/flipfix did not answer: connection refused (3 attempts); start Postgres or set DATABASE_URL.`);
    expect(lines.join('\n')).not.toContain('hunter2-secret');
    noStack(lines);
  });

  it('web in production with a real bot token and no DISCORD_PUBLIC_KEY refuses to start (no simulator key)', async () => {
    const token = 'MTA-real-looking.bot-token.value';
    const { code, lines } = await run('apps/web/src/main.ts', {
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a-production-admin-token-of-32-chars!',
      APP_BASE_URL: 'https://flipfix.example.org',
      DISCORD_BOT_TOKEN: token,
      DISCORD_API_URL: 'https://discord.com/api',
      DISCORD_CHANNEL_ID: '123456789012345678',
      DATABASE_URL: POSTGRES_OK,
      REDIS_URL: REDIS_OK,
    });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/DISCORD_PUBLIC_KEY: is required with DISCORD_BOT_TOKEN/);
    expect(lines.join('\n')).not.toContain(token);
    noStack(lines);
  });

  it('web on a port already in use says so in one line', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const { port } = taken.address() as { port: number };
    try {
      const { code, lines } = await run('apps/web/src/main.ts', { PORT: String(port), DATABASE_URL: POSTGRES_OK, REDIS_URL: REDIS_OK });
      expect(code).toBe(1);
      expect(lines.at(-1)).toContain(`web could not listen: port ${port} is in use; stop the other process or set PORT`);
      noStack(lines);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('web in production without APP_BASE_URL or with a short ADMIN_TOKEN refuses to start, naming each', async () => {
    const { code, lines } = await run('apps/web/src/main.ts', { NODE_ENV: 'production', ADMIN_TOKEN: 'short-but-16-chars', DATABASE_URL: POSTGRES_OK, REDIS_URL: REDIS_OK });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/ADMIN_TOKEN: must be at least 32 characters in production/);
    const missing = await run('apps/web/src/main.ts', { NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(40), DATABASE_URL: POSTGRES_OK, REDIS_URL: REDIS_OK });
    expect(missing.code).toBe(1);
    expect(missing.lines.join('\n')).toMatch(/APP_BASE_URL: is required in production/);
    noStack([...lines, ...missing.lines]);
  });
});
